"""Shared test fixtures."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small tensors: one thread is fastest and immune to OpenMP spin-waiting on a busy 2-core box.
    Modules that train or run the model use it with `pytestmark = pytest.mark.usefixtures(...)`."""
    import torch  # here, not at import: ahsd-config's tests must not pull torch in

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
