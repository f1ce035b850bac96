"""Any OpenAI-compatible chat server: `lighteval custom MODEL $(spinebench model-file openai_chat) TASKS`.

See spinebench_hf/evaluation/openai_chat.py.
"""

from spinebench_hf.evaluation.backends import OpenAIChatModel  # noqa: F401  (the one LightevalModel class lighteval loads)
