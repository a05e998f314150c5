"""The conditional GAN's networks (Keras 3 on TensorFlow). Importing this loads TensorFlow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def require_tensorflow() -> None:
    """Raise a one-line OganError with the install hint when TensorFlow is missing."""
    import importlib.util

    from ..errors import OganError

    if importlib.util.find_spec("tensorflow") is None:
        raise OganError("training and generation need TensorFlow: pip install 'ogan_vcf[cpu]' "
                        "(or 'ogan_vcf[gpu]' for the CUDA build)")
