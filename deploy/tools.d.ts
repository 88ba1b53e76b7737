/** Types of deploy/tools.js (the pinned Dockerfile linter and Compose schema). */
export declare const ROOT: string;
export declare const TOOLS_DIR: string;
export declare const PINS: string[];
export declare const INSTALL_HELP: string;
export declare function hadolintPath(): string | undefined;
export declare function composeSchemaPath(): string | undefined;
export declare function install(): number;
export declare function lint(extraArgs?: string[]): number;
