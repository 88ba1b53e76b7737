/**
 * JSON-schema definitions of the agent tools, as offered to the model.
 * Pure data: imported by deterministic workflow code, so no Node built-ins and no side effects.
 */

export type ToolName = 'shell' | 'apply_patch' | 'read_file' | 'list_dir' | 'update_plan';

export interface ToolDefinition {
  name: ToolName;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
}

const APPLY_PATCH_DESCRIPTION = `Use the \`apply_patch\` tool to edit files. Pass the whole patch as the \`input\` string.
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

export const TOOL_DEFINITIONS: Record<ToolName, ToolDefinition> = {
  shell: {
    name: 'shell',
    description: [
      'Runs a command and returns its combined stdout/stderr output and exit code as JSON: {"output": ..., "metadata": {"exit_code": ..., "duration_seconds": ...}}.',
      'The command is an argv array executed without a shell; to use shell syntax (pipes, redirection, &&, globbing) run it through bash, e.g. ["bash", "-lc", "ls -la | head"].',
      'Commands run in the run directory unless workdir is given (it must be inside the run directory). Standard input is closed, so interactive programs will not work.',
      'Commands may be sandboxed: only the run directory is writable, /tmp is private, and network access may be unavailable.',
      'Long output is truncated to its beginning and end; redirect it to a file and read parts of it if you need more. Prefer `rg` / `rg --files` for searching text and files when available.',
      'Do not use the shell to edit files: use apply_patch.',
    ].join('\n'),
    parameters: {
      type: 'object',
      properties: {
        command: {
          type: 'array',
          items: { type: 'string' },
          minItems: 1,
          description: 'The command to execute as an argv array, e.g. ["bash", "-lc", "npm test"].',
        },
        workdir: {
          type: 'string',
          description: 'The working directory to execute the command in (relative to the run directory, or absolute inside it). Defaults to the run directory.',
        },
        timeout_ms: {
          type: 'number',
          description: 'The timeout for the command in milliseconds (default 60000, maximum 600000). A command that times out is killed and reports exit code 124.',
        },
      },
      required: ['command'],
      additionalProperties: false,
    },
  },
  apply_patch: {
    name: 'apply_patch',
    description: APPLY_PATCH_DESCRIPTION,
    parameters: {
      type: 'object',
      properties: {
        input: {
          type: 'string',
          description: 'The entire contents of the apply_patch command, from "*** Begin Patch" to "*** End Patch".',
        },
      },
      required: ['input'],
      additionalProperties: false,
    },
  },
  read_file: {
    name: 'read_file',
    description:
      'Reads a text file inside the run directory and returns its lines numbered as "L<n>: <text>". Use offset and limit to page through long files. Lines longer than 500 characters are cut. Binary files and directories are refused (use list_dir for directories).',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path of the file, relative to the run directory (or absolute inside it).' },
        offset: { type: 'number', description: 'The 1-based line number to start reading from (default 1).' },
        limit: { type: 'number', description: 'The maximum number of lines to return (default 2000).' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  list_dir: {
    name: 'list_dir',
    description:
      'Lists a directory inside the run directory as a tree: the first line is the absolute path, then entries sorted by name and indented two spaces per level; directories end with "/", symbolic links with "@" (not followed). At most 500 entries are shown.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path of the directory, relative to the run directory (or absolute inside it). Use "." for the run directory itself.' },
        depth: { type: 'number', description: 'How many levels to descend (default 2, maximum 5). 1 lists only the direct entries.' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  update_plan: {
    name: 'update_plan',
    description: [
      'Updates the task plan.',
      'Provide an optional explanation and a list of plan items, each with a step and status.',
      'At most one step can be in_progress at a time. Send the full plan every time; mark steps completed as you finish them and keep the plan current as the work evolves.',
    ].join('\n'),
    parameters: {
      type: 'object',
      properties: {
        explanation: { type: 'string', description: 'Optional short explanation of the plan or of what changed.' },
        plan: {
          type: 'array',
          description: 'The list of steps.',
          items: {
            type: 'object',
            properties: {
              step: { type: 'string', description: 'A short description of the step.' },
              status: { type: 'string', enum: ['pending', 'in_progress', 'completed'], description: 'The status of the step.' },
            },
            required: ['step', 'status'],
            additionalProperties: false,
          },
        },
      },
      required: ['plan'],
      additionalProperties: false,
    },
  },
};

export const ALL_TOOLS: ToolName[] = ['shell', 'apply_patch', 'read_file', 'list_dir', 'update_plan'];

export const READ_ONLY_TOOLS: ToolName[] = ['read_file', 'list_dir'];

export function isToolName(name: string): name is ToolName {
  return (ALL_TOOLS as string[]).includes(name);
}
