#!/usr/bin/env python3
"""Helpers scripts/package runs around swift-argument-parser's generate-manual.

  man-pages.py displayed TOOL_INFO.json OUT.json
      The parser's --experimental-dump-help without hidden commands (shouldDisplay false), which
      generate-manual would otherwise document and list under SEE ALSO.
  man-pages.py whatis DIR
      generate-manual names a subcommand `.Nm "smbvol lock add"` in NAME: man-db's whatis parser
      (lexgrog) cannot read that, so apropos/whatis miss the page (lintian: bad-whatis-entry).
      NAME gets the page's own name (smbvol.lock.add) and the rest of the page keeps the words.
"""
import json
import os
import re
import sys


def displayed(source, target):
    info = json.load(open(source))

    def prune(command):
        subs = [s for s in command.get("subcommands", []) if s.get("shouldDisplay", True)]
        if "subcommands" in command:
            command["subcommands"] = [prune(s) for s in subs]
        return command

    info["command"] = prune(info["command"])
    json.dump(info, open(target, "w"))


def whatis(directory):
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".8"):
            continue
        path = os.path.join(directory, name)
        lines = open(path).read().split("\n")
        page = name[: -len(".8")]
        # smbvol.8 itself is named `.Nm smbvol`, which lexgrog reads.
        words = page if "." not in page else None
        for i, line in enumerate(lines):
            quoted = re.fullmatch(r'\.Nm "([^"]+)"', line)
            if words is None and quoted:  # the NAME line of a subcommand's page
                words = quoted.group(1)
                lines[i] = ".Nm " + page
            elif words is not None and line == ".Nm" and "." in page:
                lines[i] = '.Nm "%s"' % words
            description = re.fullmatch(r'\.Nd "(.*)"', line)
            if description:
                lines[i] = ".Nd " + description.group(1)
        if words is None:
            sys.exit("man-pages.py: %s has no quoted .Nm in NAME; generate-manual changed its output" % name)
        open(path, "w").write("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "displayed":
        displayed(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "whatis":
        whatis(sys.argv[2])
    else:
        sys.exit(__doc__)
