#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: make a host's LVS state (IPVS services, port groups, sysctls) match an lvsh file."""

DOCUMENTATION = r"""
module: lvsh
short_description: Apply an lvsh configuration (IPVS, port groups, sysctls) declaratively
description:
  - Runs C(lvsh apply) with the given file or inline content and reports whether anything changed.
  - Supports check mode (C(lvsh apply --check)) and diff mode (before/after as lvsh renders them).
options:
  config:
    description: Path of an lvsh file on the managed host.
    type: path
  content:
    description: The lvsh configuration itself (written to a temporary file on the host).
    type: str
  prune:
    description: Also remove services, port groups and sync daemons the file does not name.
    type: bool
    default: false
  drain:
    description: Drain leaving real servers for up to this many seconds before deleting them.
    type: int
  backend:
    description: Firewall-mark backend.
    type: str
    choices: [nft, iptables]
  netns:
    description: Run in this named network namespace (ip netns exec), e.g. for labs and tests.
    type: str
  binary:
    description: The lvsh executable.
    type: path
    default: lvsh
"""

RETURN = r"""
plan:
  description: The steps lvsh planned (op, object, summary).
  type: list
warnings:
  description: What lvsh warned about (e.g. services left alone without prune).
  type: list
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="path"),
            content=dict(type="str"),
            prune=dict(type="bool", default=False),
            drain=dict(type="int"),
            backend=dict(type="str", choices=["nft", "iptables"]),
            netns=dict(type="str"),
            binary=dict(type="path", default="lvsh"),
        ),
        mutually_exclusive=[["config", "content"]],
        required_one_of=[["config", "content"]],
        supports_check_mode=True,
    )
    p = module.params
    path = p["config"]
    temp = None
    if p["content"] is not None:
        fd, temp = tempfile.mkstemp(prefix="lvsh-", suffix=".lvsh")
        with os.fdopen(fd, "w") as f:
            f.write(p["content"])
        path = temp
    try:
        cmd = []
        if p["netns"]:
            cmd += ["ip", "netns", "exec", p["netns"]]
        cmd += [p["binary"]]
        if p["backend"]:
            cmd += ["--backend", p["backend"]]
        cmd += ["apply", path, "--json"]
        if module.check_mode:
            cmd.append("--check")
        if p["prune"]:
            cmd.append("--prune")
        if p["drain"] is not None:
            cmd += ["--drain", str(p["drain"])]
        rc, out, err = module.run_command(cmd)
    finally:
        if temp:
            os.unlink(temp)
    try:
        result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except ValueError:
        result = {}
    if rc != 0:
        # lvsh's own message says what was wrong and what to do: pass it on unchanged.
        module.fail_json(msg=result.get("msg") or err.strip() or "lvsh exited %d" % rc, rc=rc, stderr=err, cmd=cmd)
    response = dict(
        changed=bool(result.get("changed")) or (module.check_mode and bool(result.get("plan"))),
        plan=result.get("plan", []),
        warnings=result.get("warnings", []),
    )
    if module._diff:
        diff = result.get("diff", {})
        response["diff"] = dict(before=diff.get("before", ""), after=diff.get("after", ""))
    module.exit_json(**response)


if __name__ == "__main__":
    main()
