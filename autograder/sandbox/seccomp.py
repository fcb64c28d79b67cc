"""A seccomp filter for what Landlock cannot express (Linux x86_64 and aarch64).

Denied with EPERM: changing file metadata (chmod, chown, utime, extended
attributes), anonymous memory files (``memfd_create``, which escapes
``RLIMIT_AS``), System V and POSIX IPC (shared memory, semaphores, message
queues: objects that outlive a process and reach other users'), Unix-domain
sockets (``socket(AF_UNIX, ...)``: a pathname socket would reach services
outside the sandbox), new namespaces, mounts,
tracing or reading other processes, changing CPU affinity, loading kernel
code, BPF, keyrings, io_uring (which bypasses this filter) and device nodes.
``clone3`` answers ENOSYS, so the C library falls back to ``clone``, whose
flags the filter can read.  A foreign system-call ABI (x32, 32-bit) kills
the process.  ``install()`` returns what it enforced, or why it could not.

``no_tasks()`` prepares a second filter, for the process that makes the
graded calls: any call that makes a thread or a process (``clone``,
``clone3``, ``fork``, ``vfork``) kills it with ``SIGSYS``, so the calls run
in one thread and nothing runs beside them; installing a signal handler,
arming a timer and sending a signal are refused (a Python signal handler
runs wherever the interpreter is, often inside the tracer, untraced).  It is prepared ahead (the
ctypes objects exist before student code runs) and installed by calling
the returned function.
"""

from __future__ import annotations

import ctypes
import errno
import platform

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# name -> number, per architecture (only the calls the filter names)
_X86_64 = {
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93,
    "lchown": 94, "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261,
    "utimensat": 280, "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
    "lremovexattr": 198, "fremovexattr": 199, "setxattrat": 463, "removexattrat": 466,
    "memfd_create": 319, "memfd_secret": 447, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "sched_setaffinity": 203, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308, "keyctl": 250,
    "add_key": 248, "request_key": 249, "bpf": 321, "userfaultfd": 323,
    "perf_event_open": 298, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "open_by_handle_at": 304,
    "name_to_handle_at": 303, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "mknod": 133, "mknodat": 259, "swapon": 167, "swapoff": 168,
    "reboot": 169, "acct": 163, "quotactl": 179, "fsopen": 430, "fsmount": 432,
    "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "pidfd_getfd": 438,
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65,
    "semctl": 66, "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
    "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
    "mq_notify": 244, "mq_getsetattr": 245,
    "socket": 41, "clone": 56, "clone3": 435, "fork": 57, "vfork": 58,
    "rt_sigaction": 13, "alarm": 37, "setitimer": 38, "timer_create": 222, "timer_settime": 223,
    "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "pidfd_send_signal": 424,
}
_AARCH64 = {
    "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54,
    "utimensat": 88, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14,
    "lremovexattr": 15, "fremovexattr": 16, "setxattrat": 463, "removexattrat": 466,
    "memfd_create": 279, "memfd_secret": 447, "ptrace": 117, "process_vm_readv": 270,
    "process_vm_writev": 271, "sched_setaffinity": 122, "mount": 40, "umount2": 39,
    "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268, "keyctl": 219,
    "add_key": 217, "request_key": 218, "bpf": 280, "userfaultfd": 282,
    "perf_event_open": 241, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
    "finit_module": 273, "delete_module": 106, "open_by_handle_at": 265,
    "name_to_handle_at": 264, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "mknodat": 33, "swapon": 224, "swapoff": 225, "reboot": 142,
    "acct": 89, "quotactl": 60, "fsopen": 430, "fsmount": 432, "move_mount": 429,
    "open_tree": 428, "mount_setattr": 442, "pidfd_getfd": 438,
    "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
    "mq_notify": 184, "mq_getsetattr": 185, "msgget": 186, "msgctl": 187, "msgrcv": 188,
    "msgsnd": 189, "semget": 190, "semctl": 191, "semtimedop": 192, "semop": 193,
    "shmget": 194, "shmctl": 195, "shmat": 196, "shmdt": 197,
    "socket": 198, "clone": 220, "clone3": 435,
    "rt_sigaction": 134, "setitimer": 103, "timer_create": 107, "timer_settime": 110,
    "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
    "pidfd_send_signal": 424,
}
_TABLES = {"x86_64": _X86_64, "aarch64": _AARCH64}

AF_UNIX = 1
CLONE_NEW_FLAGS = 0x7E020080   # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
TASK_CALLS = ("clone", "clone3", "fork", "vfork")   # every way to make a thread or process
# installing a signal handler, arming a timer, sending a signal: the ways to make a handler run
SIGNAL_CALLS = ("rt_sigaction", "alarm", "setitimer", "timer_create", "timer_settime", "kill",
                "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal")
DENIED = tuple(n for n in _X86_64 if n not in ("socket",) + TASK_CALLS + SIGNAL_CALLS)

_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_LD_ABS = 0x20      # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15         # BPF_JMP | BPF_JEQ | BPF_K
_JSET = 0x45        # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06         # BPF_RET | BPF_K
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def program(arch: str) -> list[tuple]:
    """The filter as (code, jt, jf, k) instructions."""
    table = _TABLES[arch]
    eperm = _RET_ERRNO | errno.EPERM
    p = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, _AUDIT_ARCH[arch]), (_RET, 0, 0, _RET_KILL_PROCESS),
         (_LD_ABS, 0, 0, 0)]
    if arch == "x86_64":  # x32 system calls have bit 30 set
        p += [(_JSET, 0, 1, 0x40000000), (_RET, 0, 0, eperm)]
    for name in DENIED:
        if name in table:
            p += [(_JEQ, 0, 1, table[name]), (_RET, 0, 0, eperm)]
    p += [(_JEQ, 0, 1, table["clone3"]), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    # socket(AF_UNIX, ...): args[0] at offset 16 (low 32 bits, little-endian)
    p += [(_JEQ, 0, 4, table["socket"]), (_LD_ABS, 0, 0, 16), (_JEQ, 0, 1, AF_UNIX),
          (_RET, 0, 0, eperm), (_RET, 0, 0, _RET_ALLOW)]
    # clone(flags, ...) creating namespaces
    p += [(_JEQ, 0, 3, table["clone"]), (_LD_ABS, 0, 0, 16), (_JSET, 0, 1, CLONE_NEW_FLAGS),
          (_RET, 0, 0, eperm)]
    p += [(_RET, 0, 0, _RET_ALLOW)]
    return p


def tasks_program(arch: str) -> list[tuple]:
    """The second filter: making a thread or a process kills the caller (SIGSYS); signal
    handlers, timers and signals are refused (EPERM)."""
    table = _TABLES[arch]
    p = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, _AUDIT_ARCH[arch]), (_RET, 0, 0, _RET_KILL_PROCESS),
         (_LD_ABS, 0, 0, 0)]
    for name in TASK_CALLS:
        if name in table:
            p += [(_JEQ, 0, 1, table[name]), (_RET, 0, 0, _RET_KILL_PROCESS)]
    for name in SIGNAL_CALLS:
        if name in table:
            p += [(_JEQ, 0, 1, table[name]), (_RET, 0, 0, _RET_ERRNO | errno.EPERM)]
    p += [(_RET, 0, 0, _RET_ALLOW)]
    return p


def available() -> str | None:
    """The architecture name if this platform can install the filter, else None."""
    machine = platform.machine()
    return machine if platform.system() == "Linux" and machine in _TABLES else None


def _prepared(insns):
    """A function that installs ``insns`` on the calling thread: (True, "") or (False, why).

    Every ctypes object is made here, so calling it later runs no ctypes set-up."""
    array = (_Insn * len(insns))(*[_Insn(*i) for i in insns])
    prog = _Prog(len(insns), ctypes.cast(array, ctypes.POINTER(_Insn)))
    libc = ctypes.CDLL(None, use_errno=True)
    prctl, get_errno, ref = libc.prctl, ctypes.get_errno, ctypes.byref(prog)

    def load(_keep=(array, prog)):
        if prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False, f"prctl(NO_NEW_PRIVS): errno {get_errno()}"
        if prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ref, 0, 0) != 0:
            return False, f"prctl(SET_SECCOMP): errno {get_errno()}"
        return True, ""
    return load


def install() -> dict:
    """Install the filter on this process and its future children; returns a report."""
    arch = available()
    if arch is None:
        return {"seccomp": False, "why": f"not supported on {platform.system()} "
                                          f"{platform.machine()}"}
    done, why = _prepared(program(arch))()
    if not done:
        return {"seccomp": False, "why": why}
    return {"seccomp": True, "denied": len(DENIED) + 2}


def no_tasks():
    """A function installing the no-threads-no-processes filter (None where unavailable)."""
    arch = available()
    return _prepared(tasks_program(arch)) if arch is not None else None
