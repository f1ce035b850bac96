"""The judge stage (docs/scoring.md): when the rules read no answer, a judge model may map the reply to option
letters.

Its verdict must be one strict line, `LETTERS: A` / `LETTERS: A, C` / `LETTERS: NONE`, with letters among the item's
options; anything else is no verdict, and the sample stays invalid — the judge never guesses for the model. Verdicts
are cached on disk by (reply, options, judge model, prompt version), so a rerun asks nothing twice.

Configure with SPINEBENCH_JUDGE = `openai:MODEL` (with SPINEBENCH_JUDGE_BASE / SPINEBENCH_JUDGE_KEY, defaulting to
the SPINEBENCH_API_* settings) or `transformers:PATH` (a local chat model, greedy).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..prompts import LETTERS, render_options
from ..settings import cache_dir, judge_server, judge_spec
from ..sqlite_store import Store

PROMPT_VERSION = 1
JUDGE_PROMPT = (
    "A model answered a multiple-choice question about a spine image. Options: {options}.\n"
    "Its reply, between <reply> tags:\n<reply>\n{reply}\n</reply>\n"
    "Which option letter(s) did the reply give as its final answer? Do not answer the question yourself and do not "
    "guess: if the reply gives no answer, or contradicts itself, the answer is NONE. Reply with exactly one line, "
    "`LETTERS: A`, `LETTERS: A, C` for several, or `LETTERS: NONE`."
)
VERDICT = re.compile(r"^\s*LETTERS:\s*(NONE|[A-Z](?:\s*,\s*[A-Z])*)\s*$", re.MULTILINE)


def read_verdict(text: str, n_options: int) -> tuple[str, ...] | None:
    """The letters of a strict verdict line; None for NONE, for no line, several lines, or letters out of range.

    >>> read_verdict("LETTERS: C, A", 5), read_verdict("LETTERS: NONE", 5), read_verdict("LETTERS: F", 5)
    (('A', 'C'), None, None)
    """
    found = VERDICT.findall(text or "")
    if len(found) != 1 or found[0] == "NONE":
        return None
    letters = {letter.strip() for letter in found[0].split(",")}
    return tuple(sorted(letters)) if letters <= set(LETTERS[:n_options]) else None


class Judge:
    """A judge model behind `ask` (prompt in, raw output out), its verdicts cached in an sqlite file."""

    def __init__(self, name: str, ask: Callable[[str], str], cache_path: str | os.PathLike | None = None):
        self.name, self.ask = name, ask
        self.store = Store(
            Path(cache_path) if cache_path else cache_dir() / "judge.sqlite",
            "verdicts",
            {"raw": "TEXT"},
            PROMPT_VERSION,
        )

    def key(self, reply: str, options: Sequence[str]) -> str:
        """The cache key of a verdict: a digest of the prompt version, the judge's name, the reply and the options."""
        return hashlib.sha256(json.dumps([PROMPT_VERSION, self.name, reply, list(options)]).encode()).hexdigest()

    def __call__(self, reply: str, options: Sequence[str]) -> tuple[tuple[str, ...] | None, str]:
        """(letters or None, the judge's raw output)."""
        key = self.key(reply, options)
        row = self.store.get(key)
        raw = row[0] if row else self.ask(JUDGE_PROMPT.format(options=render_options(options), reply=reply))
        if not row:
            self.store.put(key, raw)
        return read_verdict(raw, len(options)), raw


def openai_asker(model: str) -> Callable[[str], str]:
    """Ask `model` on the judge's OpenAI-compatible server (judge_server), greedily, in at most 32 tokens."""
    from .openai_chat import chat, client_for

    server = judge_server()
    client = client_for(server)
    return lambda prompt: chat(client, model, [{"role": "user", "content": prompt}], 32, server.base_url or "")


def transformers_asker(path: str) -> Callable[[str], str]:
    """Ask the local chat model at `path` (loaded now, on the CPU), greedily, in at most 16 new tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()

    def ask(prompt: str) -> str:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        inputs = tokenizer(text, return_tensors="pt")
        output = model.generate(**inputs, max_new_tokens=16, do_sample=False)
        return str(tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True))

    return ask


@functools.cache
def configured_judge() -> Judge | None:
    """The judge SPINEBENCH_JUDGE names, made once per process (None: no judge)."""
    return judge_from_env()


def judge_from_env() -> Judge | None:
    """The judge SPINEBENCH_JUDGE names, made anew (`configured_judge` keeps one per process).

    Returns:
        A Judge named by the SPINEBENCH_JUDGE value, caching its verdicts in `<SPINEBENCH_CACHE>/judge.sqlite`; None
        when SPINEBENCH_JUDGE is unset or empty. A `transformers:` model is loaded here; an `openai:` one is only
        asked when judging.

    Raises:
        ValueError: SPINEBENCH_JUDGE is neither `openai:MODEL` nor `transformers:PATH`. (A `transformers:` PATH that
            cannot be loaded raises transformers' own error.)
    """
    spec = judge_spec()
    if not spec:
        return None
    kind, _, target = spec.partition(":")
    askers = {"openai": openai_asker, "transformers": transformers_asker}
    if kind not in askers or not target:
        raise ValueError(f"SPINEBENCH_JUDGE={spec!r}: expected openai:MODEL or transformers:PATH")
    return Judge(spec, askers[kind](target))
