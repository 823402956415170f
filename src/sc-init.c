/* sc-init: PID 1 of every container the agent makes.
 *
 * It keeps the container alive until the agent stops it, reaps every orphan that is
 * re-parented to it, and on the halt signal (SIGPWR, lxc.signal.halt) stops the container
 * politely: SIGTERM to every process, then exit once they are gone (the agent's shutdown
 * timeout bounds the wait; after it LXC sends SIGKILL). Statically linked and bind-mounted
 * read-only, so it needs nothing from the container's file system.
 *
 * Trusts nothing from inside the container: a halt signal counts only when it comes from
 * outside the container's PID namespace (si_pid 0); everything else is reaped or ignored. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HALT_SIGNAL SIGPWR

static void
reap_all (void)
{
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

/* After SIGTERM to all: wait until no process but this one is left in the namespace. */
static void
wait_for_others (const sigset_t *set)
{
  struct timespec tick = { 0, 5 * 1000 * 1000 };

  for (;;)
    {
      reap_all ();
      if (kill (-1, 0) < 0 && errno == ESRCH)
        return;
      /* wake on SIGCHLD or after a tick: processes that are not our children (attached by
       * the agent) exit without telling us */
      sigtimedwait (set, NULL, &tick);
    }
}

int
main (void)
{
  sigset_t all;

  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  prctl (PR_SET_NAME, "sc-init", 0, 0, 0);
  if (chdir ("/") < 0)
    return 1;

  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&all, &info);

      if (sig < 0)
        continue;
      if (sig == SIGCHLD)
        reap_all ();
      else if (sig == HALT_SIGNAL && info.si_pid == 0)
        {
          kill (-1, SIGTERM);
          wait_for_others (&all);
          return 0;
        }
    }
}
