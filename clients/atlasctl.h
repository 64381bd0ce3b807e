#pragma once

// atlasctl: the command line client of the Atlas API. The whole program is
// this function so tests can drive it with arguments and string streams.

#include <string>
#include <vector>

#include "clients/command_context.h"

namespace atlas::client {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command failed
inline constexpr int kExitUsage = 2;    // bad command line

// Parses `argv` (argv[0] is the program name), runs the verb and returns the
// exit code. On failure prints one line, "atlasctl: REASON", to io.err.
int RunAtlasctl(int argc, const char* const* argv, const Io& io);

// Same, with the arguments after the program name.
int RunAtlasctl(const std::vector<std::string>& args, const Io& io);

}  // namespace atlas::client
