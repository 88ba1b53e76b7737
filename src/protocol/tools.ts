/**
 * The agent tools (docs/behaviour.md §7), one entry each. Adding a tool: its entry here, and its implementation
 * in the map of its side, `ACTIVITY_TOOLS` (src/activities/tools/index.ts) or `WORKFLOW_TOOLS`
 * (src/workflows/workflowTools.ts); both are typed so that a tool without one does not compile.
 * Pure data: the workflow bundle imports it.
 */
import { APPLY_PATCH_DESCRIPTION } from './applyPatchDescription';
import { promptNameFor, type RoleKind } from './runInput';

interface ToolCommon {
  /** Roles offered the tool (docs/behaviour.md §7: the Solver every tool, Director and Verifiers the read-only ones). */
  roles: readonly RoleKind[];
  /** Changes nothing: neither the run directory nor the run's state. */
  readOnly: boolean;
  /** Leaves the run directory alone, so it may run at the same time as the step's other concurrent calls. */
  concurrent: boolean;
  /** As offered to the model. */
  description: string;
  /** JSON schema of the arguments object, as offered to the model. */
  parameters: Record<string, unknown>;
}

export type ToolSpec = ToolCommon &
  /** Run by the workflow itself: it changes the run's state, not the world. */
  (
    | { runsIn: 'workflow' }
    | {
        runsIn: 'activity';
        /**
         * After a crash, 'rerun' runs the call again (harmless); 'journal' returns the journaled
         * output, or an "interrupted; effects may be partial" notice, instead of running it twice.
         */
        onRetry: 'rerun' | 'journal';
        /** Shown to the model when its arguments are not a JSON object. */
        exampleArguments: string;
      }
  );

const SOLVER_ONLY = ['solver'] as const;
const EVERY_ROLE = ['solver', 'director', 'verifier'] as const;

export const TOOLS = {
  shell: {
    roles: SOLVER_ONLY,
    readOnly: false,
    concurrent: false,
    runsIn: 'activity',
    onRetry: 'journal',
    exampleArguments: '{"command": ["bash", "-lc", "ls"]}',
    description: [
      'Runs a command and returns its combined stdout/stderr output and exit code as JSON: {"output": ..., "metadata": {"exit_code": ..., "duration_seconds": ...}}.',
      'The command is an argv array executed without a shell; to use shell syntax (pipes, redirection, &&, globbing) run it through bash, e.g. ["bash", "-lc", "ls -la | head"].',
      'Commands run in the run directory unless workdir is given (it must be inside the run directory). Standard input is closed, so interactive programs will not work.',
      'Commands may be sandboxed: only the run directory is writable, /tmp is private, and network access may be unavailable.',
      'If a command needs network access (for example to install a dependency), set sandbox_permissions to "require_escalated" and give a one-sentence justification: depending on the run\'s approval policy a person approves or denies it (you get the reason), or it is refused. Writes stay confined to the run directory either way.',
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
          description:
            'The timeout for the command in milliseconds (default 60000, maximum 600000). A command that times out is killed and reports exit code 124.',
        },
        sandbox_permissions: {
          type: 'string',
          enum: ['use_default', 'require_escalated'],
          description:
            'Sandbox permissions for the command. "require_escalated" asks a person to let it use the network; "use_default" (or leaving it out) runs it in the sandbox.',
        },
        justification: {
          type: 'string',
          description: 'Only with sandbox_permissions "require_escalated": one sentence, shown to the person who decides, on why the command needs it.',
        },
      },
      required: ['command'],
      additionalProperties: false,
    },
  },
  apply_patch: {
    roles: SOLVER_ONLY,
    readOnly: false,
    concurrent: false,
    runsIn: 'activity',
    onRetry: 'journal',
    exampleArguments: '{"input": "*** Begin Patch\\n...\\n*** End Patch"}',
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
    roles: EVERY_ROLE,
    readOnly: true,
    concurrent: true,
    runsIn: 'activity',
    onRetry: 'rerun',
    exampleArguments: '{"path": "README.md"}',
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
    roles: EVERY_ROLE,
    readOnly: true,
    concurrent: true,
    runsIn: 'activity',
    onRetry: 'rerun',
    exampleArguments: '{"path": "."}',
    description:
      'Lists a directory inside the run directory as a tree: the first line is the absolute path, then entries sorted by name and indented two spaces per level; directories end with "/", symbolic links with "@" (not followed). At most 500 entries are shown.',
    parameters: {
      type: 'object',
      properties: {
        path: {
          type: 'string',
          description: 'Path of the directory, relative to the run directory (or absolute inside it). Use "." for the run directory itself.',
        },
        depth: { type: 'number', description: 'How many levels to descend (default 2, maximum 5). 1 lists only the direct entries.' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  update_plan: {
    roles: SOLVER_ONLY,
    readOnly: false,
    concurrent: true,
    runsIn: 'workflow',
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
} as const satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;
type NamesWhere<Spec> = { [K in ToolName]: (typeof TOOLS)[K] extends Spec ? K : never }[ToolName];
export type ActivityToolName = NamesWhere<{ runsIn: 'activity' }>;
export type WorkflowToolName = NamesWhere<{ runsIn: 'workflow' }>;

export const TOOL_NAMES = Object.keys(TOOLS) as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name);
}

export function toolSpec(name: string): ToolSpec | undefined {
  return isToolName(name) ? TOOLS[name] : undefined;
}

export function isWorkflowTool(name: string): name is WorkflowToolName {
  return toolSpec(name)?.runsIn === 'workflow';
}

export function isActivityTool(name: string): name is ActivityToolName {
  return toolSpec(name)?.runsIn === 'activity';
}

/** The tools offered to `role` (a role name: solver, director, verifier-…), in table order. */
export function toolsFor(role: string): ToolName[] {
  const kind = promptNameFor(role);
  return TOOL_NAMES.filter((name) => (TOOLS[name].roles as readonly RoleKind[]).includes(kind));
}

export interface ToolDefinition {
  /** A table tool's name, or an MCP tool's `mcp__<server>__<tool>` (src/protocol/mcp.ts). */
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  /** Sent with `strict: true` (only MCP tools whose schema strict mode accepts; the table's tools are sent non-strict). */
  strict?: boolean;
}

/** The definitions offered to the model for the named tools, in the order given; unknown names are skipped. */
export function toolDefinitions(names: readonly string[]): ToolDefinition[] {
  return names.filter(isToolName).map((name) => ({ name, description: TOOLS[name].description, parameters: TOOLS[name].parameters }));
}
