"""Run by tests/test_training.py under torchrun: train the BN-free test network on a
synthetic stripe set and save its predictions (rank 0)."""
import sys

import numpy as np
import torch.distributed as dist

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_training import config_for, stripes  # noqa: E402

from lattice_utils.learn import training  # noqa: E402

inputs, period = stripes(n=40)
rows = np.arange(len(period))
y = period[:, None]
cfg = config_for(inputs, rows, y, epochs=3, batch_size=8, lr_schedule="cosine")
trained = training.train(cfg, inputs, rows, y, log=lambda *_: None)
if not dist.is_initialized() or dist.get_rank() == 0:
    np.save(sys.argv[1], trained.predict(inputs, rows))
if dist.is_initialized():
    dist.destroy_process_group()
