/** Types of deploy/worker-healthcheck.js. */
export declare function check(env?: NodeJS.ProcessEnv): Promise<string[]>;
export declare function parseAddress(address: string): { host: string; port: number };
export declare function sandboxState(env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; text: string }>;
