import { describe, expect, it } from 'vitest';
import { assembleServices, checkModuleOrder } from '../../src/app/assembly.ts';
import { defineModule, type AppContext, type FirebreakModule } from '../../src/app/context.ts';
import { MODULES } from '../../src/app/modules.ts';
import { startTestServer } from '../support/server.ts';

const SERVER_SERVICES = ['tokens', 'people', 'sessions', 'signIn', 'authenticator', 'checks'] as const;

// Stand-ins for services: the assembly only passes values along, so any object shows where it went.
const secrets = { name: 'secrets' } as never;
const plans = { name: 'plans' } as never;

describe('module wiring', () => {
  it('accepts the shipped module order', () => {
    expect(() => checkModuleOrder(MODULES, SERVER_SERVICES)).not.toThrow();
  });

  it('names the module and the service when a need is provided only by a later module', () => {
    const secretsModule = MODULES.find((m) => m.name === 'secrets')!;
    const plansModule = MODULES.find((m) => m.name === 'plans')!;
    const reordered = MODULES.filter((m) => m !== secretsModule);
    reordered.splice(reordered.indexOf(plansModule) + 1, 0, secretsModule);
    expect(() => checkModuleOrder(reordered, SERVER_SERVICES)).toThrow('module plans needs the service secrets, which module secrets provides after it: list secrets before plans');
  });

  it('names the module and the service when no module provides a need', () => {
    expect(() => checkModuleOrder(MODULES.filter((m) => m.name !== 'secrets'), SERVER_SERVICES)).toThrow(
      'module plans needs the service secrets, which no installed module provides',
    );
  });

  it('refuses an optional service that only a later module provides, and accepts one that is not installed', () => {
    const onCall = MODULES.find((m) => m.name === 'oncall')!;
    const withoutOnCall = MODULES.filter((m) => m !== onCall);
    expect(() => checkModuleOrder(withoutOnCall, SERVER_SERVICES)).not.toThrow();
    expect(() => checkModuleOrder([...withoutOnCall, onCall], SERVER_SERVICES)).toThrow('module plans uses the service notifications, which module oncall provides after it');
  });

  it('refuses a service provided twice', () => {
    const again = defineModule({ name: 'again', provides: ['secrets'], init: () => ({ secrets }) });
    expect(() => checkModuleOrder([...MODULES, again], SERVER_SERVICES)).toThrow('the service secrets is provided twice: by secrets and by module again');
  });

  it('gives each module only what it declared, absent optional services as undefined, and freezes the result', async () => {
    const seen: Record<string, unknown>[] = [];
    const first = defineModule({ name: 'first', provides: ['secrets'], init: () => ({ secrets }) });
    const second = defineModule({
      name: 'second',
      needs: ['secrets'],
      uses: ['notifications'],
      provides: ['plans'],
      init(ctx) {
        seen.push({ ...ctx.services });
        return { plans };
      },
    });
    const services = await assembleServices([first, second], {}, {} as Omit<AppContext, 'services'>);
    expect(seen).toEqual([{ secrets, notifications: undefined }]);
    expect(services.plans).toBe(plans);
    expect(Object.isFrozen(services)).toBe(true);
  });

  it('refuses a module whose init returns what it did not declare, or leaves out what it did', async () => {
    const context = {} as Omit<AppContext, 'services'>;
    const undeclared = { name: 'undeclared', provides: [], init: () => ({ secrets }) } as FirebreakModule;
    await expect(assembleServices([undeclared], {}, context)).rejects.toThrow('module undeclared returned the service secrets, which it does not declare in provides');
    const missing = { name: 'missing', provides: ['secrets'], init: () => ({}) } as FirebreakModule;
    await expect(assembleServices([missing], {}, context)).rejects.toThrow('module missing declares the service secrets but did not provide it');
  });

  it('a running server holds a frozen container', async () => {
    const server = await startTestServer('sqlite');
    try {
      expect(Object.isFrozen(server.firebreak.ctx.services)).toBe(true);
      expect(server.firebreak.ctx.services.messageSender.channelNames()).toContain('notifications');
    } finally {
      await server.close();
    }
  });
});
