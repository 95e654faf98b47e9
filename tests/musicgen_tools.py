"""Tiny MusicGen models for tests, built here and saved in audiocraft's checkpoint format.

The models are audiocraft's debug-sized ones (its ``get_debug_lm_model`` and
``get_debug_compression_model``: a 2-layer, 16-wide transformer over 4 codebooks of a 25 Hz
EnCodec at 32 kHz), described by the hydra config that audiocraft's own ``builders`` read back,
and saved the way ``audiocraft.utils.export`` exports a trained model: ``state_dict.bin`` and
``compression_state_dict.bin`` with ``best_state`` and ``xp.cfg`` (YAML). Text goes through a
look-up-table conditioner with the ``noop`` tokenizer, which hashes words and needs no spaCy
model. The melody variant adds audiocraft's chroma conditioner, which separates the reference
with demucs' ``htdemucs``: a tiny htdemucs is saved where torch hub keeps that checkpoint
(``$TORCH_HOME/hub/checkpoints/955717e8-8726e21a.th``), so nothing is downloaded. The weights
are random: the tests check the engine's plumbing and the audio rules, not musical taste.
"""

from __future__ import annotations

from pathlib import Path

SEGMENT_S = 20.0  # the LM's training duration = max_duration (audiocraft strides 18 s by default: must be longer)
HTDEMUCS_FILE = "955717e8-8726e21a.th"  # demucs/remote/files.txt: the one model of the htdemucs bag


def _compression_cfg() -> dict:
    return {
        "compression_model": "encodec", "device": "cpu", "sample_rate": 32000, "channels": 1,
        "encodec": {"autoencoder": "seanet", "quantizer": "rvq", "sample_rate": 32000, "channels": 1,
                    "causal": False, "renormalize": False},
        "seanet": {"dimension": 32, "channels": 1, "causal": False, "n_filters": 4, "n_residual_layers": 1,
                   "ratios": [10, 8, 16], "encoder": {}, "decoder": {}},
        "rvq": {"n_q": 4, "bins": 400, "q_dropout": False, "decay": 0.99, "kmeans_init": True,
                "kmeans_iters": 10, "threshold_ema_dead_code": 2},
    }


def _lm_cfg(melody: bool) -> dict:
    conditioners = {"description": {"model": "lut", "lut": {"n_bins": 128, "dim": 16, "tokenizer": "noop"}}}
    fuser = {"cross_attention_pos_emb": False, "cross_attention_pos_emb_scale": 1, "sum": [],
             "prepend": [], "cross": ["description"], "input_interpolate": []}
    if melody:
        conditioners["self_wav"] = {"model": "chroma_stem", "chroma_stem": {
            "sample_rate": 32000, "n_chroma": 12, "radix2_exp": 12, "argmax": True,
            "match_len_on_eval": True, "eval_wavs": None, "n_eval_wavs": 0}}
        fuser["prepend"] = ["self_wav"]
    return {
        "lm_model": "transformer_lm", "device": "cpu", "dtype": "float32",
        "dataset": {"segment_duration": SEGMENT_S},
        "transformer_lm": {"n_q": 4, "card": 400, "dim": 16, "num_heads": 4, "num_layers": 2, "custom": True,
                           "causal": True, "hidden_scale": 4, "norm": "layer_norm", "norm_first": True},
        "codebooks_pattern": {"modeling": "delay", "delay": {"delays": [0, 1, 2, 3]}},
        "attribute_dropout": {}, "classifier_free_guidance": {"training_dropout": 0.0, "inference_coef": 3.0},
        "fuser": fuser, "conditioners": conditioners,
    }


def build_tiny_musicgen(folder: Path, melody: bool = False, seed: int = 0) -> Path:
    """A tiny MusicGen (text, or text + chroma with ``melody``) saved in ``folder``; returns it."""
    import audiocraft
    import torch
    from audiocraft.models import builders
    from omegaconf import OmegaConf

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ccfg = OmegaConf.create(_compression_cfg())
    comp = builders.get_compression_model(ccfg)
    comp.quantizer(torch.randn(8, 32, 128), 1)  # initialise the codebooks (k-means), as the debug model does
    lcfg = OmegaConf.create(_lm_cfg(melody))
    lm = builders.get_lm_model(lcfg)
    for name, model, cfg in (("compression_state_dict.bin", comp, ccfg), ("state_dict.bin", lm, lcfg)):
        torch.save({"best_state": model.state_dict(), "xp.cfg": OmegaConf.to_yaml(cfg),
                    "version": audiocraft.__version__, "exported": True}, folder / name)
    return folder


def build_tiny_htdemucs(torch_home: Path, seed: int = 0) -> Path:
    """A tiny htdemucs saved where ``demucs.pretrained.get_model('htdemucs')`` finds it offline."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    kwargs = {"sources": ["drums", "bass", "other", "vocals"], "channels": 4, "depth": 4, "nfft": 1024,
              "t_layers": 1, "t_heads": 2, "bottom_channels": 0, "samplerate": 44100, "segment": 2,
              "dconv_comp": 2, "t_hidden_scale": 1.0}
    model = HTDemucs(**kwargs)
    with torch.no_grad():  # random weights leave every source ~35 dB under the mix; bring them to its level
        for branch in (model.decoder, model.tdecoder):
            branch[-1].conv_tr.weight.mul_(50.0)
            branch[-1].conv_tr.bias.mul_(50.0)
    path = torch_home / "hub" / "checkpoints" / HTDEMUCS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"klass": HTDemucs, "args": (), "kwargs": kwargs, "state": model.state_dict()}, path)
    return path
