"""Runs a command under a Docker seccomp profile (JSON), loaded with libseccomp as Docker loads it.

    python3 seccompExec.py PROFILE.json [--without-comment TEXT] -- COMMAND [ARG...]

For test/deploy/seccomp.test.ts: what runs under deploy/seccomp-bwrap.json in a container runs
under the same filter here, without Docker. Supports what the profile uses: names, the ALLOW and
ERRNO actions, argument comparisons, and `includes.arches`. Rules whose comment starts with TEXT
are left out (to show what the profile would refuse without them). Names this architecture does
not have are skipped, as Docker skips them.
"""

import ctypes
import ctypes.util
import json
import os
import platform
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def action(rule, default_errno):
    if rule["action"] == "SCMP_ACT_ALLOW":
        return SCMP_ACT_ALLOW
    if rule["action"] == "SCMP_ACT_ERRNO":
        return SCMP_ACT_ERRNO | (rule.get("errnoRet", default_errno) & 0xFFFF)
    raise SystemExit(f"seccompExec: unsupported action {rule['action']}")


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    profile_path, options, command = argv[0], argv[1:sep], argv[sep + 1 :]
    without = options[1] if options[:1] == ["--without-comment"] else None
    profile = json.load(open(profile_path))
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    if profile["defaultAction"] != "SCMP_ACT_ERRNO":
        raise SystemExit("seccompExec: only profiles that refuse by default are supported")
    default_errno = profile.get("defaultErrnoRet", 1)
    ctx = lib.seccomp_init(SCMP_ACT_ERRNO | default_errno)
    for rule in profile["syscalls"]:
        if without and rule.get("comment", "").startswith(without):
            continue
        arches = rule.get("includes", {}).get("arches")
        if arches and ARCH not in arches:
            continue
        args = rule.get("args") or []
        cmps = (ArgCmp * max(len(args), 1))(*[ArgCmp(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in args])
        for name in rule["names"]:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue
            rc = lib.seccomp_rule_add_array(ctx, action(rule, default_errno), nr, len(args), cmps)
            if rc != 0:
                raise SystemExit(f"seccompExec: cannot add {name}: {os.strerror(-rc)}")
    rc = lib.seccomp_load(ctx)
    if rc != 0:
        raise SystemExit(f"seccompExec: cannot load the filter: {os.strerror(-rc)}")
    os.execvp(command[0], command)


main()
