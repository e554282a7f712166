// Anchor for the shared precompiled <torch/torch.h> header (see the root CMakeLists.txt).
