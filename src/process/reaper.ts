import path from "node:path";
import util from "node:util";
import { findOnPath, isExecutable } from "./find-on-path.js";

/**
 * A process that clears its environment (`env -i setsid daemon &`) loses the tag conductor finds
 * a step's leftovers by (see run.ts), and once its parent exits the kernel hands it to init:
 * nothing links it to the step any more. Linux links it for us when an ancestor asks: a "child
 * subreaper" (prctl PR_SET_CHILD_SUBREAPER) receives its orphaned descendants instead of init.
 * Node cannot make that call, so on Linux every program a step starts runs under a small Perl
 * wrapper (Perl is part of every Debian and Ubuntu base system) that makes it, starts the
 * program, and, once the program has exited, ends every process handed to it: SIGTERM (to the
 * process group of one that made its own), SIGKILL after the grace period. Then it exits as the
 * program did, with its exit code or by its signal, once the program's process group has had
 * its SIGTERM too. No environment, tag or process group is
 * needed to be found, so clearing them hides nothing.
 *
 * The program leads a process group of its own, as it would without the wrapper (`kill --
 * -$$` in a script still means its own group); the wrapper reports its pid, and conductor
 * signals that group. Both make it the group's leader, the wrapper before it reports, so that a
 * signal sent on the report never finds the group not made yet. The wrapper ignores every signal it can (the program starts with all of
 * them as they were): it must outlive the program to do its work, and the program cannot end it
 * early with a signal other than SIGKILL, the fault signals
 * (SEGV, ABRT, BUS, FPE, ILL, TRAP, SYS) included: sent with kill they end a process like any
 * other, while a real fault of Perl's own still ends it (the kernel undoes the ignoring of the
 * fault it raises). It re-raises the program's signal as a process that may not dump core
 * (PR_SET_DUMPABLE 0): no core of Perl lands in the program's folder. So a wrapper that
 * ended otherwise than by SIGKILL has left nothing behind ({@link REAPED_UNLESS_KILLED}). It
 * holds no output pipe open: it closes stdin and stdout, and writes to stderr only when it
 * cannot fork. When the program cannot be started (a directory, a script whose interpreter is
 * missing: cases the look-up before cannot rule out), the wrapper writes exec's errno to file
 * descriptor 3 ({@link REAPER_REPORT_FD}, close-on-exec, so the program never sees it) and
 * conductor reports the same spawn error Node would have.
 *
 * Arguments: the grace period in milliseconds, the program's PERL5OPT and LC_ALL (each "" for
 * none, else "=" and the value), then the program and its arguments. The wrapper itself runs
 * without PERL5OPT, so no option of the user's changes how it runs, and with LC_ALL=C, so Perl
 * loads no locale (a third of its start-up's file opens); the program gets both back.
 *
 * Perl has no prctl of its own: the wrapper makes the system call by number (36 is
 * PR_SET_CHILD_SUBREAPER), the number of prctl for the machine in its own ELF header (x86-64,
 * AArch64, RISC-V, LoongArch, i386, ARM). Where that is unknown or the call fails, the wrapper
 * simply becomes the program (exec), as if it were not there.
 */
const REAPER_SCRIPT = String.raw`my ($grace, $opt, $locale) = splice @ARGV, 0, 3;
$ENV{PERL5OPT} = substr($opt, 1) if $opt ne '';
if ($locale ne '') { $ENV{LC_ALL} = substr($locale, 1) } else { delete $ENV{LC_ALL} }
my $report;
fcntl($report, 2, 1) if open $report, '>&=', 3;
sub start {
  exec { $ARGV[0] } @ARGV;
  syswrite $report, 'e' . ($! + 0) . "\n" if $report;
  exit($! + 0 == 2 ? 127 : 126);
}
my %prctl = (62 => 157, 183 => 167, 243 => 167, 258 => 167, 3 => 172, 40 => 172);
my $machine;
if (open my $exe, '<', '/proc/self/exe') {
  binmode $exe;
  my $head = '';
  if (sysread($exe, $head, 20) == 20 && substr($head, 0, 4) eq "\x7fELF") {
    $machine = unpack(substr($head, 5, 1) eq "\x02" ? 'n' : 'v', substr($head, 18, 2));
  }
}
my $nr = defined $machine ? $prctl{$machine} : undef;
start() unless defined $nr && syscall($nr, 36, 1, 0, 0, 0) == 0;
my @caught = grep { !/^(?:CHLD|CLD|KILL|STOP|ZERO)$/ } keys %SIG;
$SIG{$_} = 'IGNORE' for @caught;
my $pid = fork;
if (!defined $pid) { print STDERR "conductor: cannot start $ARGV[0]: $!\n"; exit 126 }
if ($pid == 0) { $SIG{$_} = 'DEFAULT' for @caught; setpgrp(0, 0); start() }
setpgrp($pid, $pid);
if ($report) { syswrite $report, "p$pid\n"; close $report }
close STDIN;
close STDOUT;
my $status;
while (1) {
  my $done = waitpid(-1, 0);
  if ($done == $pid) { $status = $?; last }
  if ($done == -1) { $status = 0; last }
}
kill 'TERM', -$pid;
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
if (my $signal = $status & 127) {
  syscall($nr, 4, 0, 0, 0, 0);
  $SIG{$_} = 'DEFAULT' for @caught;
  kill $signal, $$;
  exit 128 + $signal;
}
exit($status >> 8);
`;

/**
 * The one way a wrapper ends before its work is done: SIGKILL (conductor's own after the grace
 * period, or anyone's). Ended any other way, with the program's code or by its signal, it ended
 * every process handed to it first, so no descendant of the program is left.
 */
export const REAPED_UNLESS_KILLED: NodeJS.Signals = "SIGKILL";

/**
 * The descriptor on which the wrapper reports the program's pid (`p<pid>`, which is also its
 * process group's id) and, when the program cannot start, exec's errno (`e<errno>`).
 */
export const REAPER_REPORT_FD = 3;

/** What the wrapper reported: the program's pid, and exec's errno when it could not start. */
export interface ReaperReport {
  pid: number | undefined;
  errno: number | undefined;
}

/** Reads the wrapper's report lines (see {@link REAPER_REPORT_FD}). */
export function parseReaperReport(text: string): ReaperReport {
  const number = (prefix: string) => {
    const line = text.split("\n").find((entry) => entry.startsWith(prefix));
    const value = Number(line?.slice(1));
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  };
  return { pid: number("p"), errno: number("e") };
}

/** The error Node would have given for a program that cannot start: `spawn <file> <CODE>`. */
export function reportedStartError(errno: number | undefined, file: string): Error | undefined {
  if (errno === undefined) return undefined;
  const code = util.getSystemErrorName(-errno);
  return Object.assign(new Error(`spawn ${file} ${code}`), { errno: -errno, code, path: file });
}

/** A program to spawn: a file and its arguments (never through a shell). */
export interface Launch {
  file: string;
  args: string[];
}

/**
 * How to start `file` with `args` (with `shell`, `file` is a `/bin/sh` command line) under the
 * reaper, or undefined where it cannot run: not Linux, no Perl, or a program that would not be
 * found (started directly, it fails the way it always has, with Node's own error).
 */
export function underReaper(
  file: string,
  args: readonly string[],
  options: { shell: boolean; graceMs: number; env: Readonly<Record<string, string | undefined>> },
): { launch: Launch; env: Record<string, string | undefined>; program: string } | undefined {
  const perl = reaperPerl();
  if (perl === undefined) return undefined;
  const program = options.shell ? ["/bin/sh", "-c", [file, ...args].join(" ")] : [file, ...args];
  if (!options.shell && !startable(file, options.env)) return undefined;
  const { PERL5OPT, LC_ALL, ...env } = options.env;
  return {
    launch: {
      file: perl,
      args: [
        "-e",
        REAPER_SCRIPT,
        String(Math.max(0, Math.round(options.graceMs))),
        PERL5OPT === undefined ? "" : `=${PERL5OPT}`,
        LC_ALL === undefined ? "" : `=${LC_ALL}`,
        ...program,
      ],
    },
    env: { ...env, LC_ALL: "C" },
    program: program[0] ?? file,
  };
}

/** Whether exec would find `file`: a path to an executable, or a name on the PATH of `env`. */
function startable(file: string, env: Readonly<Record<string, string | undefined>>): boolean {
  return file.includes(path.sep) ? isExecutable(file) : findOnPath(file, env) !== undefined;
}

/** Whether programs run under the reaper here, and if not, why not (`conductor doctor`). */
export type ReaperStatus =
  | { running: true; perl: string }
  | { running: false; why: "not Linux" | "no perl on PATH" | "CONDUCTOR_NO_REAPER=1" };

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
          : { running: true, perl };
  return status;
}

function reaperPerl(): string | undefined {
  const found = reaperStatus();
  return found.running ? found.perl : undefined;
}
