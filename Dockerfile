# syntax=docker/dockerfile:1
# The GPU node: CUDA PyTorch, ffmpeg, and t2l with the dependencies constraints.txt locks.
#
#   docker build -t t2l .
#   docker run --gpus all --rm -v "$PWD:$PWD" -w "$PWD" --user "$(id -u):$(id -g)" t2l repro
#
# torch and torchvision come from the base image, whose tag carries the torch version that
# constraints.txt locks (2.13.0). The lock's `torch==2.13.0` is satisfied by the image's
# `2.13.0+cu128` (PEP 440 ignores the local label), so pip keeps the CUDA build; the first RUN below
# stops the build if a different base image was chosen (BASE_IMAGE) rather than let pip swap torch.
ARG BASE_IMAGE=pytorch/pytorch:2.13.0-cuda12.8-cudnn9-runtime
FROM ${BASE_IMAGE}

# Writable for any --user: caches (open_clip/Hugging Face downloads; mount one to keep them), Prefect, matplotlib.
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/t2l/cache \
    PREFECT_HOME=/tmp/t2l/prefect \
    MPLCONFIGDIR=/tmp/t2l/matplotlib

# apt packages unpinned (DL3008): the base image's tag fixes the Ubuntu release they come from.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg git tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/t2l
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN python -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" \
    && python -m pip install --constraint constraints.txt . \
    && python -c "import torch, open_clip, decord, mlflow, prefect, prefect_dask, t2l; assert torch.version.cuda"

# A non-root user; git trusts bind-mounted projects owned by whoever runs the container.
RUN useradd --create-home --uid 1000 t2l \
    && git config --system --add safe.directory '*'
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/t2l-entrypoint
USER 1000
WORKDIR /work

# 5000: mlflow ui, 8080: mlflow models serve
EXPOSE 5000 8080
ENTRYPOINT ["tini", "--", "t2l-entrypoint"]
CMD ["repro"]
