"""`python -m ahsd_train ...` (and `torchrun --nproc_per_node=N -m ahsd_train run ...`)."""

from ahsd_train.entry import main

main()
