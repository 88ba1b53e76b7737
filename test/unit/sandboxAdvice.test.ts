import { describe, expect, it } from 'vitest';
import { type SandboxHost, sandboxAdvice } from '../../src/host/sandboxAdvice';

const refused = { available: false, problem: 'cannot-sandbox' as const, bwrap: '/usr/bin/bwrap', detail: 'bwrap: setting up uid map: Permission denied' };
const missing = { available: false, problem: 'not-installed' as const, reason: 'bwrap (bubblewrap) was not found on PATH' };

function host(sysctls: Record<string, string>, where: { inContainer?: boolean; inImage?: boolean } = {}): SandboxHost {
  return { inContainer: where.inContainer ?? false, inImage: where.inImage ?? false, sysctl: (name) => sysctls[name] };
}

describe('sandboxAdvice', () => {
  it('names the sysctl that refuses user namespaces, with the command that allows them', () => {
    const ubuntu = sandboxAdvice(refused, host({ 'kernel.apparmor_restrict_unprivileged_userns': '1', 'user.max_user_namespaces': '63000' }));
    expect(ubuntu).toContain('(bwrap: setting up uid map: Permission denied)');
    expect(ubuntu).toContain('On this host, unprivileged user namespaces are refused by kernel.apparmor_restrict_unprivileged_userns=1');
    expect(ubuntu).toContain('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
    expect(ubuntu).not.toContain('max_user_namespaces');

    const debian = sandboxAdvice(refused, host({ 'kernel.unprivileged_userns_clone': '0' }));
    expect(debian).toContain('sudo sysctl -w kernel.unprivileged_userns_clone=1');
    const none = sandboxAdvice(refused, host({ 'user.max_user_namespaces': '0' }));
    expect(none).toContain('refused by user.max_user_namespaces=0');
  });

  it('lists every setting when none of them is visibly the cause, and the container options inside one', () => {
    const plain = sandboxAdvice(refused, host({ 'user.max_user_namespaces': '63000' }));
    expect(plain).toContain('must be allowed: kernel.apparmor_restrict_unprivileged_userns must be 0');
    expect(plain).toContain('user.max_user_namespaces above 0');
    expect(plain).not.toContain('seccomp');
    const container = sandboxAdvice(refused, host({}, { inContainer: true }));
    expect(container).toContain('On the Docker host');
    expect(container).toContain('seccomp=deploy/seccomp-bwrap.json, apparmor=unconfined, systempaths=unconfined');
  });

  it('says to install bubblewrap when it is missing, or to rebuild the image that should have it', () => {
    expect(sandboxAdvice(missing, host({}))).toContain('apt-get install bubblewrap');
    const image = sandboxAdvice(missing, host({}, { inContainer: true, inImage: true }));
    expect(image).toContain('rebuild the image');
    expect(image).not.toContain('apt-get');
  });
});
