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
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_termination(const std::function<void()>& on_reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int signal_number = 0;
    if (sigwait(&set, &signal_number) != 0) continue;
    if (signal_number != SIGHUP) return signal_number;
    if (on_reload) on_reload();
  }
}

}  // namespace gw::app
