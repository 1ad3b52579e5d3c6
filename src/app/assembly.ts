import { AppError } from '../shared/errors.ts';
import type { AppContext, FirebreakModule, ModuleServices, ServiceName } from './context.ts';

/**
 * Checks, before anything is built, that every module's needs are provided by the server or by a module listed
 * before it, that an optional service it uses is not provided only later (it would silently go without), and that
 * no service has two providers. Throws an error naming the module and the service.
 */
export function checkModuleOrder(modules: readonly FirebreakModule[], serverProvides: readonly ServiceName[]): void {
  const providerOf = new Map<ServiceName, string>();
  for (const module of modules) for (const name of module.provides ?? []) if (!providerOf.has(name)) providerOf.set(name, module.name);
  const available = new Map<ServiceName, string>(serverProvides.map((name) => [name, 'the server']));
  const names = new Set<string>();
  for (const module of modules) {
    if (names.has(module.name)) throw new AppError('internal', `two modules are named ${module.name}`);
    names.add(module.name);
    const missing = (name: ServiceName, how: string): AppError => {
      const later = providerOf.get(name);
      return new AppError(
        'internal',
        later
          ? `module ${module.name} ${how} the service ${name}, which module ${later} provides after it: list ${later} before ${module.name}`
          : `module ${module.name} ${how} the service ${name}, which no installed module provides`,
      );
    };
    for (const name of module.needs ?? []) if (!available.has(name)) throw missing(name, 'needs');
    for (const name of module.uses ?? []) if (!available.has(name) && providerOf.has(name)) throw missing(name, 'uses');
    if ((module.provides ?? []).length > 0 && !module.init) throw new AppError('internal', `module ${module.name} provides services but has no init`);
    for (const name of module.provides ?? []) {
      const other = available.get(name);
      if (other) throw new AppError('internal', `the service ${name} is provided twice: by ${other} and by module ${module.name}`);
      available.set(name, module.name);
    }
  }
}

/**
 * Runs each module's `init` in order with only the services it declared, collects what it returns, and freezes
 * the result: the container routes and workers read. A module that returns other services than it declared is
 * refused, so the declarations stay true.
 */
export async function assembleServices(
  modules: readonly FirebreakModule[],
  server: Partial<ModuleServices>,
  context: Omit<AppContext, 'services'>,
): Promise<Readonly<ModuleServices>> {
  checkModuleOrder(modules, Object.keys(server) as ServiceName[]);
  const services: Partial<Record<ServiceName, unknown>> = { ...server };
  for (const module of modules) {
    if (!module.init) continue;
    const visible: Partial<Record<ServiceName, unknown>> = {};
    for (const name of [...(module.needs ?? []), ...(module.uses ?? [])]) visible[name] = services[name];
    const made: Partial<Record<ServiceName, unknown>> = await module.init({ ...context, services: Object.freeze(visible) as ModuleServices });
    const declared = new Set<ServiceName>(module.provides ?? []);
    for (const name of Object.keys(made) as ServiceName[]) {
      if (!declared.has(name)) throw new AppError('internal', `module ${module.name} returned the service ${name}, which it does not declare in provides`);
    }
    for (const name of declared) {
      if (made[name] === undefined) throw new AppError('internal', `module ${module.name} declares the service ${name} but did not provide it`);
      services[name] = made[name];
    }
  }
  return Object.freeze(services) as ModuleServices;
}
