"""Write a tiny random-weight Llama GGUF (about 0.5 MB) that real llama.cpp loads and runs.

It produces gibberish, but through the same code path as a real model: tokenizer, ChatML template,
sampling, stop at EOS. Tests and benchmarks use it so that nothing has to be downloaded.
Needs the `gguf` package (the `dev` extra).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
WORDS = ["the", "and", "Paris", "yes", "no", "hello", "safe", "help", "sorry", "cannot", "answer", "is",
         "of", "to", "in", "a", "you", "I", "it", "that", "four", "two", "one", "three", "five", "ok",
         "please", "thanks", "model", "reply"]


def write_tiny_llama(path: str | Path, *, seed: int = 0, n_embd: int = 64, n_layer: int = 2,
                     chat_template: str | None = CHATML_TEMPLATE) -> Path:
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tokens: list[bytes] = []
    types: list[int] = []
    scores: list[float] = []

    def add(piece: str, kind: int, score: float = 0.0) -> None:
        tokens.append(piece.encode("utf-8"))
        types.append(kind)
        scores.append(score)

    add("<unk>", gguf.TokenType.UNKNOWN)
    for special in ("<s>", "</s>", "<|im_start|>", "<|im_end|>"):
        add(special, gguf.TokenType.CONTROL)
    # Byte-fallback tokens: without them any character outside the vocabulary aborts the process.
    for b in range(256):
        add(f"<0x{b:02X}>", gguf.TokenType.BYTE)
    add("\u2581", gguf.TokenType.NORMAL, -1.0)
    for i, c in enumerate(chr(c) for c in range(33, 127)):
        add(c, gguf.TokenType.NORMAL, -2.0 - i * 0.01)
    for i, w in enumerate(WORDS):
        add("\u2581" + w, gguf.TokenType.NORMAL, -0.5 - i * 0.01)

    n_vocab, n_head, n_head_kv, n_ff = len(tokens), 4, 2, 2 * n_embd
    w = _llama_writer(path, "tiny-test-llama", n_ctx=512, rope_base=10000.0, n_embd=n_embd, n_layer=n_layer,
                      n_head=n_head, n_head_kv=n_head_kv, n_ff=n_ff)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(4)  # <|im_end|>: generation stops at the end of the ChatML turn
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    if chat_template:
        w.add_chat_template(chat_template)

    _write_weights(w, rng, n_vocab=n_vocab, n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_head_kv=n_head_kv,
                   n_ff=n_ff)
    return path


# The special tokens of the real Llama 3 and Llama 4 tokenizers that Llama Guard prompts use (the
# tiny SentencePiece model above parses none of them): BOS first, the end-of-turn token is the EOS.
SPECIAL_TOKENS = {
    "llama3": ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
               "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>"),
    "llama4": ("<|begin_of_text|>", "<|end_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>", "<|eom|>",
               "<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"),
}
EOS_TOKEN = {"llama3": "<|eot_id|>", "llama4": "<|eot|>"}
BPE_MERGES = ("\u0120 t", "h e", "\u0120t he", "i n", "a n", "e r", "o n", "\u0120 a", "r e", "a t")


def _byte_chars() -> list[str]:
    """GPT-2's byte-to-unicode table: every byte as one printable character (byte-level BPE)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) \
        + list(range(ord("\xae"), ord("\xff") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def write_tiny_bpe_llama(path: str | Path, family: str = "llama3", *, seed: int = 0, n_embd: int = 64,
                         name: str | None = None) -> Path:
    """A tiny random-weight Llama with a byte-level BPE vocabulary (``tokenizer.ggml.model = gpt2``,
    Llama 3's pre-tokenizer) holding the real special tokens of `family` ("llama3" or "llama4") as
    CONTROL tokens, so that llama.cpp parses them the way it does for Llama Guard 3 and 4."""
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    byte_chars = _byte_chars()
    tokens = list(byte_chars) + ["".join(m.split(" ")) for m in BPE_MERGES]
    types = [gguf.TokenType.NORMAL] * len(tokens)
    specials = SPECIAL_TOKENS[family]
    first_special = len(tokens)
    tokens += list(specials)
    types += [gguf.TokenType.CONTROL] * len(specials)
    n_vocab, n_head, n_head_kv, n_layer, n_ff = len(tokens), 4, 2, 2, 2 * n_embd
    w = _llama_writer(path, name or f"tiny-{family}-bpe", n_ctx=2048, rope_base=500000.0, n_embd=n_embd,
                      n_layer=n_layer, n_head=n_head, n_head_kv=n_head_kv, n_ff=n_ff)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list([t.encode("utf-8") for t in tokens])
    w.add_token_types(types)
    w.add_token_merges(list(BPE_MERGES))
    w.add_bos_token_id(first_special)  # <|begin_of_text|>
    w.add_eos_token_id(first_special + specials.index(EOS_TOKEN[family]))
    w.add_add_bos_token(True)

    _write_weights(w, rng, n_vocab=n_vocab, n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_head_kv=n_head_kv,
                   n_ff=n_ff)
    return path


def _llama_writer(path, name: str, *, n_ctx: int, rope_base: float, n_embd: int, n_layer: int, n_head: int,
                  n_head_kv: int, n_ff: int):
    """A GGUF writer with a tiny Llama's architecture metadata; the tokenizer is the caller's."""
    import gguf

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_rope_freq_base(rope_base)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    return w


def _write_weights(w, rng, *, n_vocab: int, n_embd: int, n_layer: int, n_head: int, n_head_kv: int,
                   n_ff: int) -> None:
    """Random Llama weights of the given shape after `w`'s metadata, then the file written and closed."""
    hd = n_embd // n_head

    def mat(rows: int, cols: int) -> np.ndarray:
        return rng.normal(0, 0.02, size=(rows, cols)).astype(np.float32)

    ones = np.ones(n_embd, dtype=np.float32)
    w.add_tensor("token_embd.weight", mat(n_vocab, n_embd))
    w.add_tensor("output_norm.weight", ones)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", ones)
        w.add_tensor(f"blk.{i}.attn_q.weight", mat(n_head * hd, n_embd))
        w.add_tensor(f"blk.{i}.attn_k.weight", mat(n_head_kv * hd, n_embd))
        w.add_tensor(f"blk.{i}.attn_v.weight", mat(n_head_kv * hd, n_embd))
        w.add_tensor(f"blk.{i}.attn_output.weight", mat(n_embd, n_head * hd))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", ones)
        w.add_tensor(f"blk.{i}.ffn_gate.weight", mat(n_ff, n_embd))
        w.add_tensor(f"blk.{i}.ffn_up.weight", mat(n_ff, n_embd))
        w.add_tensor(f"blk.{i}.ffn_down.weight", mat(n_embd, n_ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":  # python -m harness.testing.tiny_gguf OUT.gguf
    import sys

    print(write_tiny_llama(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama.gguf"))
