"""The providers' batch APIs: a run's samples handed to the provider's own batch service (about half
the price, answered within 24 hours) and every answer brought back exactly once.

`base.py` is the one small interface a provider's batch service implements; one module per provider
(`openai.py`, `anthropic.py`, `gemini.py`) registers itself with `@batch_backend("kind")`;
`engine.py` plans, submits, polls and stores, with the store's `batches` tables as the durable record;
`judge.py` (with `judge_answers.py`) sends the judge's questions as a second batch (`judge: {batch: true}`).
"""
