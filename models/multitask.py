"""The model: one shared encoder, mean-pooled, with a small linear head per task.

Heads (class names in ``meta.json``'s ``heads``, in logit order):

- ``brand``: sentiment *toward the brand* (negative / neutral / positive), trained on the
  CrowdFlower brand-directed sets; what the monitor stores and counts (news, promotions and
  questions are neutral toward a brand);
- ``sentiment``: the tweet's overall sentiment, trained on TweetEval (the benchmark's task);
- ``emotion``: anger / joy / optimism / sadness, trained on TweetEval emotion.

Every head reads the same pooled encoding, so scoring a mention for all three costs one
encoder pass. The model's forward returns the heads' logits side by side (one ``logits``
tensor, as ONNX Runtime sees it); :class:`HeadSpec` says which columns belong to which head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from models.heads import HeadSpec


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of the token vectors that the attention mask keeps (padding left out)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-6)


class MultiTaskModel(nn.Module):
    """A Hugging Face encoder with one linear head per task on its mean-pooled output."""

    def __init__(self, encoder: Any, spec: HeadSpec, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.spec = spec
        self.dropout = nn.Dropout(dropout)
        hidden = encoder.config.hidden_size
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, len(labels)) for name, labels in spec.heads})

    @property
    def config(self) -> Any:
        """The encoder's config (the ONNX export reads its attention implementation)."""
        return self.encoder.config

    def set_attn_implementation(self, value: str) -> None:
        self.encoder.set_attn_implementation(value)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, head: str | None = None) -> torch.Tensor:
        """One head's logits, or (``head`` None) every head's, side by side in :class:`HeadSpec` order."""
        pooled = self.dropout(self.pooled(input_ids, attention_mask))
        if head is not None:
            return self.heads[head](pooled)
        return torch.cat([self.heads[name](pooled) for name in self.spec.names], dim=-1)


def build(base: str, spec: HeadSpec) -> tuple[MultiTaskModel, Any]:
    """``(model, tokenizer)``: base encoder ``base`` (a name :func:`models.artifact.resolve_base` knows)
    with fresh heads. Raises ModelLoadError when the base is not available offline."""
    from models.artifact import ModelLoadError, offline_env, resolve_base

    offline_env()
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    src = resolve_base(base)
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
        encoder = AutoModel.from_pretrained(src, local_files_only=True, add_pooling_layer=False)
    except (OSError, TypeError):
        raise ModelLoadError(f"base model {base!r} is not in the local cache and there is no network; download "
                             "it once with network access or point --base-model at a local folder") from None
    finally:
        hf_logging.set_verbosity(level)
    return MultiTaskModel(encoder, spec), tok


def word_embedding_key(model: MultiTaskModel) -> str:
    """The state-dict name of the (frozen, not shipped) word-embedding matrix."""
    emb = model.encoder.get_input_embeddings().weight
    return next(k for k, v in model.named_parameters() if v is emb)
