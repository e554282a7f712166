#pragma once
// HDF5 (1.10, as Debian 12 and Ubuntu 24.04 ship it) crashes on some damaged files instead of
// returning an error: a variable-length string whose global-heap entry is corrupt, for one,
// makes H5Dread copy from a wild address. Files strata did not just write itself are therefore
// read first in a child process, which reads every attribute and every dataset (large ones at
// their first and last element) the way strata would; a child that dies marks its file as one
// not to open here.
#include <filesystem>
#include <string>
#include <vector>

namespace strata::io::h5 {

// For each file, "" when reading it in this process is safe (it may still fail with an error:
// only a crash or a hang is caught here), otherwise why not, e.g. "HDF5 crashed reading it
// in a checking process (SIGSEGV)". One child reads the files in turn; after a file that killed
// it, the next child starts at the file after. `seconds_per_file` bounds a hang.
std::vector<std::string> unsafe_to_read(const std::vector<std::filesystem::path>& files, int seconds_per_file = 300);

// Reads every attribute and dataset of `file` it can reach (the child's work; exposed for
// tests); one HDF5 reports an error on is skipped. Throws when the file cannot be opened or walked.
void read_everything(const std::filesystem::path& file);

}  // namespace strata::io::h5
