/**
 * What to change when bubblewrap cannot sandbox the Solver's commands (docs/behaviour.md §7.3):
 * install it, or, when it is installed, the host setting that refuses it its namespaces. The text
 * fits where it runs: inside a container the fix is on the Docker host and in the container's
 * security options, not an install.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Whether bubblewrap can sandbox a command here (src/activities/tools/sandbox.ts probes it). */
export interface SandboxDetection {
  available: boolean;
  reason?: string;
  /** Why not: bwrap is not on PATH, or it is there but cannot build its sandbox (namespaces refused). */
  problem?: 'not-installed' | 'cannot-sandbox';
  /** The bwrap that was tried. */
  bwrap?: string;
  /** What bwrap said when it failed. */
  detail?: string;
}

export interface SandboxHost {
  /** In a container (the project's image sets INFTY_IN_IMAGE; Docker leaves /.dockerenv, Podman /run/.containerenv). */
  inContainer: boolean;
  /** In the project's image, where bubblewrap is installed by the Dockerfile. */
  inImage: boolean;
  /** A sysctl's value (`kernel.unprivileged_userns_clone`), undefined when this kernel has none. */
  sysctl(name: string): string | undefined;
}

export function thisHost(env: NodeJS.ProcessEnv = process.env): SandboxHost {
  const inImage = Boolean(env.INFTY_IN_IMAGE);
  return {
    inImage,
    inContainer: inImage || existsSync('/.dockerenv') || existsSync('/run/.containerenv'),
    sysctl: (name) => {
      try {
        return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
      } catch {
        return undefined;
      }
    },
  };
}

/** The user-namespace sysctls that refuse bwrap, each with the command that allows it. */
function userNamespaceBlockers(host: SandboxHost): string[] {
  const found: string[] = [];
  if (host.sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') {
    found.push(
      'kernel.apparmor_restrict_unprivileged_userns=1 (the default of Ubuntu 23.10 and later): allow them with ' +
        '`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (keep it in /etc/sysctl.d/), ' +
        'or give bwrap an AppArmor profile that allows `userns`',
    );
  }
  if (host.sysctl('kernel.unprivileged_userns_clone') === '0') {
    found.push('kernel.unprivileged_userns_clone=0: allow them with `sudo sysctl -w kernel.unprivileged_userns_clone=1`');
  }
  if (host.sysctl('user.max_user_namespaces') === '0') {
    found.push('user.max_user_namespaces=0: allow them with `sudo sysctl -w user.max_user_namespaces=15000`');
  }
  return found;
}

const ALL_USERNS_SETTINGS =
  'kernel.apparmor_restrict_unprivileged_userns must be 0 (Ubuntu 23.10 and later set it to 1; or give bwrap an AppArmor ' +
  'profile that allows `userns`), kernel.unprivileged_userns_clone 1 where it exists, user.max_user_namespaces above 0';

const CONTAINER_OPTIONS =
  'The container must also let it build them: docker-compose.yml runs the worker with ' +
  '`security_opt: [seccomp=deploy/seccomp-bwrap.json, apparmor=unconfined, systempaths=unconfined]` ' +
  "(`docker run --security-opt` the same); Docker's default seccomp and AppArmor profiles refuse the namespaces and mounts bwrap needs";

/** Why there is no sandbox and what to change, in one paragraph (no trailing alternative). */
export function sandboxAdvice(d: SandboxDetection, host: SandboxHost = thisHost()): string {
  if (d.available) return 'bubblewrap works here';
  if (d.problem === 'not-installed') {
    return host.inImage
      ? "bubblewrap (bwrap) is missing from this image, although the project's Dockerfile installs it: rebuild the image from the Dockerfile"
      : 'bubblewrap (bwrap) is not installed (not on PATH): install it (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; Alpine: `apk add bubblewrap`)';
  }
  const where = host.inContainer ? 'On the Docker host' : 'On this host';
  const blockers = userNamespaceBlockers(host);
  const setting =
    blockers.length > 0
      ? `${where}, unprivileged user namespaces are refused by ${blockers.join('; and by ')}`
      : `${where}, unprivileged user namespaces must be allowed: ${ALL_USERNS_SETTINGS}`;
  const said = d.detail ? ` (bwrap: ${d.detail.replace(/^bwrap: /, '')})` : '';
  return (
    `bubblewrap is installed${d.bwrap ? ` (${d.bwrap})` : ''} but cannot create its namespaces${said}: this is a setting, not a missing package. ` +
    `${setting}${host.inContainer ? `. ${CONTAINER_OPTIONS}` : ''}`
  );
}
