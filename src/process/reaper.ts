import path from "node:path";
import util from "node:util";
import { findOnPath, isExecutable } from "./find-on-path.js";
import { privateFolder } from "./private-folder.js";

/**
 * A process that clears its environment (`env -i setsid daemon &`) loses the tag conductor finds
 * a step's leftovers by (see run.ts), and once its parent exits the kernel hands it to init:
 * nothing links it to the step any more. Linux links it for us when an ancestor asks: a "child
 * subreaper" (prctl PR_SET_CHILD_SUBREAPER) receives its orphaned descendants instead of init.
 * Node cannot make that call, so on Linux every program a step starts is started by a reaper: a
 * small long-lived Perl process (Perl is part of every Debian and Ubuntu base system) that makes
 * it, starts programs one at a time when asked (reaper-pool.ts keeps one per program running at
 * once), and, once a program has exited, ends every process handed to it: SIGTERM (to the process
 * group of one that made its own), SIGKILL after the grace period. Only then does it report the
 * program's end. No environment, tag or process group is needed to be found, so clearing them
 * hides nothing. A reaper started for each program cost a Perl start-up (2 ms) and a fork of the
 * whole Node process for every step; a long-lived one forks itself, a few megabytes.
 *
 * The program leads a process group of its own, as it would when forked from Node (`kill --
 * -$$` in a script still means its own group), and conductor signals that group: both the
 * program and the reaper make it the group's leader, the reaper before it reports the pid, so
 * that a signal sent on the report never finds the group not made yet. The reaper ignores every
 * signal it can (the program starts with all of them as they were): it must outlive the program
 * to do its work, and the program cannot end it early with a signal other than SIGKILL, the
 * fault signals (SEGV, ABRT, BUS, FPE, ILL, TRAP, SYS) included: sent with kill they end a process
 * like any other, while a real fault of Perl's own still ends it (the kernel undoes the ignoring
 * of the fault it raises). So a reaper that reported a program's end has left nothing behind.
 *
 * Its arguments are three paths in conductor's private folder: two named pipes it makes (mode
 * 0600), which become the program's stdout and stderr (conductor opens their reading ends before
 * each request and sees them end when the last process holding them does), and the file conductor
 * writes a program's stdin to (anew for each program that reads one). Its own stdin carries
 * requests: a line with the length in bytes, then the fields, each ended by a NUL byte: the grace
 * period in milliseconds, the working folder, "1" when the program reads the stdin file ("" for
 * /dev/null), the number of arguments, the program and its arguments, then its environment,
 * `NAME=value` each. It answers on its stdout: `r1` once ready (`r0` where it could not become a
 * subreaper: it starts programs all the same), then for each request `p<pid>` once the program
 * runs, or `e<errno>` when it could not start (a missing folder, exec's failure: conductor reports
 * the error Node would have), and `x<status>` (wait(2)'s status) once the program has exited and
 * what it left has ended; or `c`, and it exits without starting the program, when what its
 * programs inherit from it changed since it was ready (below). It reads no request while one runs,
 * and exits at the end of its input. It runs with LC_ALL=C and no other environment, so Perl loads
 * no locale and no option of the user's (PERL5OPT) changes how it runs; each program gets the
 * environment of its request.
 *
 * What a program inherits from its reaper, any process of the user may change in the reaper: a
 * program (`prlimit --pid $PPID`, `renice`, `ionice`, `taskset`), or anything else while the
 * reaper waits. Every later program would inherit the change. So the reaper reads those
 * attributes of its own before it starts each program, and refuses (`c`) when they are not as
 * they were when it was ready: its limits, niceness and scheduling, I/O priority, the CPUs and
 * memory nodes it may use, how soon the OOM killer takes it, its cgroup, timer slack, its
 * session's niceness (autogroup) and what its core dumps hold. Read there, at the moment of the
 * fork, the check leaves no gap, and costs conductor's main thread nothing.
 *
 * Perl has no prctl or ioprio_get of its own, nor mkfifo without loading its POSIX module: the
 * reaper makes those system calls by number (prctl's 36 is PR_SET_CHILD_SUBREAPER; mknodat's mode
 * 010600 a named pipe; ioprio_get's 1 names the calling process), the numbers for the machine in
 * its own ELF header (x86-64, AArch64, RISC-V, LoongArch, i386, ARM); elsewhere it loads POSIX
 * for mkfifo, starts programs unreaped (`r0`) and compares the rest without the I/O priority.
 */
export const REAPER_SCRIPT = String.raw`my ($out, $err, $in) = @ARGV;
$| = 1;
binmode STDIN;
my %calls = (62 => [157, 259, 252], 183 => [167, 33, 31], 243 => [167, 33, 31], 258 => [167, 33, 31], 3 => [172, 297, 290], 40 => [172, 324, 315]);
my $machine;
if (open my $exe, '<', '/proc/self/exe') {
  binmode $exe;
  my $head = '';
  if (sysread($exe, $head, 20) == 20 && substr($head, 0, 4) eq "\x7fELF") {
    $machine = unpack(substr($head, 5, 1) eq "\x02" ? 'n' : 'v', substr($head, 18, 2));
  }
}
my ($prctl, $mknodat, $ioprio) = @{ (defined $machine && $calls{$machine}) || [] };
for my $fifo ($out, $err) {
  my $made = defined $mknodat ? syscall($mknodat, -100, $fifo, 4480, 0) == 0 : do { require POSIX; POSIX::mkfifo($fifo, 0600) };
  exit 1 unless $made;
}
my $reaping = defined $prctl && syscall($prctl, 36, 1, 0, 0, 0) == 0 ? 1 : 0;
my @caught = grep { !/^(?:CHLD|CLD|KILL|STOP|ZERO)$/ } keys %SIG;
$SIG{$_} = 'IGNORE' for @caught;
my $inherited = inherited();
print "r$reaping\n" or exit 0;
sub slurp {
  open my $f, '<', $_[0] or return '';
  local $/;
  return <$f> // '';
}
sub inherited {
  my @stat = fields('self');
  my @allowed = grep { /^(?:Cpus|Mems)_allowed:/ } split /\n/, slurp('/proc/self/status');
  my @files = map { slurp("/proc/self/$_") } qw(limits oom_score_adj cgroup timerslack_ns autogroup coredump_filter);
  return join "\n", map({ $_ // '' } @stat[16, 37, 38]), @allowed, @files, defined $ioprio ? syscall($ioprio, 1, 0) : '';
}
sub fields {
  open my $f, '<', "/proc/$_[0]/stat" or return ();
  my $line = <$f> // '';
  my $end = rindex $line, ')';
  return $end < 0 ? () : split ' ', substr($line, $end + 2);
}
sub children {
  if (open my $f, '<', "/proc/$$/task/$$/children") {
    local $/;
    return split ' ', (<$f> // '');
  }
  opendir my $d, '/proc' or return ();
  return grep { /^\d+$/ && ((fields($_))[1] // 0) == $$ } readdir $d;
}
while (defined(my $size = <STDIN>)) {
  my $body = '';
  while (length $body < $size) { read(STDIN, $body, $size - length $body, length $body) or exit 0 }
  my ($grace, $cwd, $stdin, $count, @rest) = split /\0/, $body, -1;
  pop @rest;
  my @argv = splice @rest, 0, $count;
  if (inherited() ne $inherited) { print "c\n"; exit 0 }
  my ($failed, $failing);
  if (!pipe $failed, $failing) { print 'e' . ($! + 0) . "\n" or exit 0; next }
  my $pid = fork;
  if (!defined $pid) { print 'e' . ($! + 0) . "\n" or exit 0; next }
  if ($pid == 0) {
    close $failed;
    $SIG{$_} = 'DEFAULT' for @caught;
    setpgrp(0, 0);
    if (chdir($cwd) && open(STDIN, '<', $stdin eq '' ? '/dev/null' : $in) && sysopen(STDOUT, $out, 1) && sysopen(STDERR, $err, 1)) {
      %ENV = map { split /=/, $_, 2 } @rest;
      exec { $argv[0] } @argv;
    }
    syswrite $failing, $! + 0;
    exit 127;
  }
  close $failing;
  setpgrp($pid, $pid);
  my $errno = '';
  sysread $failed, $errno, 16;
  close $failed;
  if ($errno ne '') { waitpid($pid, 0); print "e$errno\n" or exit 0; next }
  print "p$pid\n" or exit 0;
  my $status;
  while (1) {
    my $done = waitpid(-1, 0);
    if ($done == $pid) { $status = $?; last }
    if ($done == -1) { $status = 0; last }
  }
  kill 'TERM', -$pid;
  my %termed;
  for (my $waited = 0; ; $waited += 10) {
    my $left;
    1 while ($left = waitpid(-1, 1)) > 0;
    last if $left == -1;
    my $kill = $waited >= $grace;
    for my $child (children()) {
      my ($state, $ppid, $group) = fields($child);
      next if !defined $state || $state eq 'Z' || ($termed{$child} && !$kill);
      $termed{$child} = 1;
      kill($kill ? 'KILL' : 'TERM', $group == $child ? -$child : $child);
    }
    select(undef, undef, undef, 0.01);
  }
  print "x$status\n" or exit 0;
}
`;

/** The error Node would have given for a program that cannot start: `spawn <file> <CODE>`. */
export function reportedStartError(errno: number, file: string): Error {
  const code = util.getSystemErrorName(-errno);
  return Object.assign(new Error(`spawn ${file} ${code}`), { errno: -errno, code, path: file });
}

/** Whether programs run under the reaper here, and if not, why not (`conductor doctor`). */
export type ReaperStatus =
  | { running: true; perl: string }
  | {
      running: false;
      why:
        | "not Linux"
        | "no perl on PATH"
        | "CONDUCTOR_NO_REAPER=1"
        | "~/.conductor/tmp cannot be made";
    };

let status: ReaperStatus | undefined;

/**
 * Whether the reaper runs, looked up once (a process-wide fact). CONDUCTOR_NO_REAPER=1 turns it
 * off: where Perl misbehaves, and for measuring what it costs.
 */
export function reaperStatus(): ReaperStatus {
  if (status !== undefined) return status;
  const perl = findOnPath("perl");
  status =
    process.platform !== "linux"
      ? { running: false, why: "not Linux" }
      : process.env.CONDUCTOR_NO_REAPER === "1"
        ? { running: false, why: "CONDUCTOR_NO_REAPER=1" }
        : perl === undefined
          ? { running: false, why: "no perl on PATH" }
          : privateFolder() === undefined
            ? { running: false, why: "~/.conductor/tmp cannot be made" }
            : { running: true, perl };
  return status;
}

/**
 * The Perl to start a reaper with for this program, or undefined where none runs, or where the
 * program would not be found (started directly, it fails the way it always has, with Node's own
 * error).
 */
export function reaperProgram(program: {
  file: string;
  shell: boolean;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}): string | undefined {
  const found = reaperStatus();
  if (!found.running) return undefined;
  if (!program.shell && !startable(program)) return undefined;
  return found.perl;
}

/**
 * Whether exec would find the program: a path to an executable (a relative one from the folder
 * it runs in, as exec reads it there), or a name on the PATH of its environment.
 */
function startable(program: {
  file: string;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}): boolean {
  const { file, cwd, env } = program;
  if (!file.includes(path.sep)) return findOnPath(file, env) !== undefined;
  return isExecutable(path.resolve(cwd, file));
}
