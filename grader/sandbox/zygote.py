"""The sandbox's long-lived process: imports TensorFlow once, then forks one isolated process per job.

Standalone, like runtime.py beside it: only the standard library. Importing TensorFlow costs seconds of
CPU; a fork costs milliseconds, so every job starts from an already-warm interpreter. The zygote never
runs a job's code itself, so no job can leave anything behind for the next one in it.

Each job's process gets new user, mount, PID, network, IPC and UTS namespaces, a fresh /tmp and
/dev/shm (the only places it can write), a /proc that shows only its own processes, and no capabilities:
it cannot see, signal or trace the zygote or any other job, and the mounts it inherits, read-only, are
locked in place, as are the assignment's support files, bound read-only into its working folder. It says
hello on its results channel (the host reads its PID from the socket's credentials and moves it into the
job's cgroup), and only then reads its job.
"""

import ctypes
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import evaluator  # noqa: E402 - found beside this file, which the line above makes importable
import runtime  # noqa: E402

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_PRIVATE = 1 << 18
MS_REC = 0x4000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_RELATIME = 1 << 21
# A bind mount keeps these flags of the mount it comes from, which may have locked them: remounting it
# read-only must repeat them (as statvfs reports them, and as mount takes them).
KEPT_MOUNT_FLAGS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63
JOB_FDS = 3  # the job's stdin, its output (stdout and stderr) and its results channel
JOB_PROCESS_NAME = b"tfgrade-job"
SCRATCH_INODES = 100_000  # files and folders in a job's /tmp or /dev/shm: inodes cost kernel memory too

_libc = ctypes.CDLL(None, use_errno=True)


class _CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapabilitySet(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _checked(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: bytes, target: bytes, kind: bytes | None, flags: int, options: bytes | None) -> None:
    _checked(_libc.mount(source, target, kind, flags, options), f"mount {target.decode()}")


def main() -> None:
    libraries = runtime.warm_up()
    control = socket.socket(fileno=int(sys.argv[1]))
    _name(b"tfgrade-zygote")
    control.send(b"ready")
    while True:
        try:
            mode, fds, _, _ = socket.recv_fds(control, 64, JOB_FDS)
        except OSError:
            os._exit(0)
        if not mode or len(fds) != JOB_FDS:
            os._exit(0)  # the host closed the control socket: the pool is done with this zygote
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            control.close()
            _job_process(fds, isolated=mode == b"isolated", libraries=libraries)
        for fd in fds:
            os.close(fd)
        control.send(b"exit %d" % _exit_code_of(pid))


def _job_process(fds: list[int], isolated: bool, libraries: list) -> None:
    try:
        _name(JOB_PROCESS_NAME)
        os.setsid()
        _die_with_parent()
        stdin, output, channel = fds
        os.dup2(stdin, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.dup2(channel, runtime.CHANNEL_FD)
        os.closerange(runtime.CHANNEL_FD + 1, os.sysconf("SC_OPEN_MAX"))
        os.write(runtime.CHANNEL_FD, b"\0")
        header, blobs = runtime.read_job()
        if isolated:
            _enter_namespaces(header["scratch_bytes"], header["scratch"], header.get("support"))
    except BaseException as error:  # noqa: BLE001 - whatever failed, the zygote must not run on in this child
        os.write(2, f"the sandbox could not start the job: {error}\n".encode())
        os._exit(70)
    try:
        if header["kind"] == "evaluate":
            evaluator.run(header, blobs)  # ends the process itself
        else:
            runtime.run_job(header, blobs, libraries)  # ends the process itself
    finally:
        os._exit(70)  # never fall back into the zygote's loop


def _enter_namespaces(scratch_bytes: int, scratch: str, support: dict | None) -> None:
    """Becomes PID 1's child in fresh namespaces; returns in the process that runs the job.

    Its /tmp and /dev/shm, each of `scratch_bytes` at most (its memory limit: their pages are charged to
    its memory cgroup, where there is one), are the only places it can write: everything else was made
    read-only by bubblewrap. They are freed when its last process ends. The support files (the host's
    `support` header) are bound into `scratch`, its working folder.
    """
    uid, gid = os.getuid(), os.getgid()
    _checked(
        _libc.unshare(
            CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        ),
        "unshare",
    )
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as file:
            file.write(text)
    _mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    for folder in (b"/tmp", b"/dev/shm"):
        if os.path.isdir(folder):
            _mount(
                b"tmpfs",
                folder,
                b"tmpfs",
                MS_NOSUID | MS_NODEV,
                b"mode=0700,size=%d,nr_inodes=%d" % (scratch_bytes, SCRATCH_INODES),
            )
    if support:
        _bind_support_files(support, scratch)
    os.chdir("/tmp")  # the zygote's own /tmp, the working folder it was forked in, is out of reach
    _exit_with(_forked_child_status())  # this process stays outside the new PID namespace
    # The first process in the new PID namespace: when it ends, the kernel kills everything left in it.
    _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV, None)
    _exit_with(_forked_child_status())
    _drop_capabilities()


def _bind_support_files(support: dict, scratch: str) -> None:
    """Each support file and folder appears in the working folder on a read-only bind mount: it cannot be
    written, and, a mount point, neither removed nor replaced; the job keeps no capability to unmount it."""
    os.makedirs(scratch, exist_ok=True)
    for name in support["names"]:
        source, target = os.path.join(support["folder"], name), os.path.join(scratch, name)
        if os.path.islink(source):
            continue  # the host lists only files and folders; this one changed since
        if os.path.isdir(source):
            os.mkdir(target)
        elif os.path.isfile(source):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444))
        else:
            continue
        _mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None)
        kept = os.statvfs(target).f_flag
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(mount_flag for statvfs_flag, mount_flag in KEPT_MOUNT_FLAGS if kept & statvfs_flag)
        _mount(b"none", target.encode(), None, flags, None)


def _forked_child_status() -> int | None:
    """Forks; in the child returns None, in the parent waits and returns the child's exit code."""
    pid = os.fork()
    if pid == 0:
        _die_with_parent()
        return None
    return _exit_code_of(pid)


def _exit_code_of(pid: int) -> int:
    """Waits for a child; killed by signal N reads as 128 + N, as a shell (and bubblewrap) reports it."""
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _die_with_parent() -> None:
    _checked(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")


def _exit_with(code: int | None) -> None:
    if code is not None:
        os._exit(code)


def _drop_capabilities() -> None:
    _checked(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    for capability in range(LAST_CAPABILITY + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # capabilities this kernel lacks fail; fine
    header = _CapabilityHeader(CAPABILITY_VERSION_3, 0)
    _checked(_libc.capset(ctypes.byref(header), (_CapabilitySet * 2)()), "capset")


def _name(name: bytes) -> None:
    _libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


if __name__ == "__main__":
    main()
