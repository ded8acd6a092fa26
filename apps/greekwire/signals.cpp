#include <pthread.h>
#include <signal.h>

#include "commands.hpp"

namespace gw::app {

void ignore_broken_pipes() {
  signal(SIGPIPE, SIG_IGN);
}

void block_termination_signals() {
  ignore_broken_pipes();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

}  // namespace gw::app
