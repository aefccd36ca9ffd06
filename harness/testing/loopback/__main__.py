"""``python -m harness.testing.loopback --port N``: serve every protocol on 127.0.0.1 until Ctrl-C."""
from harness.testing.loopback.server import main

raise SystemExit(main())
