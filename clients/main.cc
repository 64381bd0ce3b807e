// atlasctl: see clients/atlasctl.h.

#include <unistd.h>

#include <iostream>

#include "clients/atlasctl.h"

int main(int argc, char** argv) {
  atlas::client::Io io;
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.err_is_terminal = isatty(STDERR_FILENO) == 1;
  return atlas::client::RunAtlasctl(argc, argv, io);
}
