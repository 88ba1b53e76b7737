/** The apply_patch tool's description as offered to the model: the Codex patch format (docs/behaviour.md §7). */
export const APPLY_PATCH_DESCRIPTION = `Use the \`apply_patch\` tool to edit files. Pass the whole patch as the \`input\` string.
The patch language is a stripped-down, file-oriented diff format designed to be easy to parse and safe to apply. Think of it as a high-level envelope:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Within that envelope you get a sequence of file operations. Each operation starts with one of three headers:

*** Add File: <path> - create a new file. Every following line is a + line (the initial contents).
*** Delete File: <path> - remove an existing file. Nothing follows.
*** Update File: <path> - patch an existing file in place (optionally with a rename).

An Update may be immediately followed by *** Move to: <new path> if you want to rename the file.
Then one or more "hunks", each introduced by @@ (optionally followed by a hunk header: a line of the file, such as a class or function definition, used to locate the hunk).
Within a hunk each line starts with:
  ' ' (a space) for a context line that stays unchanged,
  '-' for a line to remove,
  '+' for a line to add.

For context: by default show 3 lines of code immediately above and 3 lines immediately below each change. If a change is within 3 lines of a previous change, do NOT duplicate the first change's context lines. If 3 lines of context are not enough to uniquely identify the snippet, use the @@ header to name the class or function the change is in, e.g.
@@ class BaseClass
@@     def method():
(several @@ lines may be used to narrow down nested scopes). Add *** End of File after a hunk that must match at the end of the file.

The full grammar:
Patch := Begin { FileOp } End
Begin := "*** Begin Patch" NEWLINE
End := "*** End Patch" NEWLINE
FileOp := AddFile | DeleteFile | UpdateFile
AddFile := "*** Add File: " path NEWLINE { "+" line NEWLINE }
DeleteFile := "*** Delete File: " path NEWLINE
UpdateFile := "*** Update File: " path NEWLINE [ MoveTo ] { Hunk }
MoveTo := "*** Move to: " newPath NEWLINE
Hunk := "@@" [ header ] NEWLINE { HunkLine } [ "*** End of File" NEWLINE ]
HunkLine := (" " | "-" | "+") text NEWLINE

A full example:

*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-print("Hi")
+print("Hello, world!")
*** Delete File: obsolete.txt
*** End Patch

Remember:
- You must include a header with the intended action (Add/Delete/Update).
- You must prefix new lines with + even when creating a new file.
- File paths must be relative to the run directory (the working directory), never absolute.
- The patch is applied atomically: if any hunk does not match, no file is changed and the error says which hunk failed.`;
