"""The supervised model: inputs (numpy), the network and its training (torch, the ``train`` extra), and
inference through ONNX Runtime (no torch needed to detect)."""
