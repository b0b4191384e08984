import {PipelockError} from '../errors/index.js'

/**
 * Loads the code of a feature the config enables, on demand (bench: startup; `pipelock run` loads only
 * what its config uses). A configured feature whose code cannot be loaded refuses start-up with
 * one line naming it; it is never silently left off.
 */
export async function loadFeature<T>(feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    throw new PipelockError('FEATURE_LOAD_FAILED', `${feature} is enabled but its code could not be loaded (${(err as Error).message}); refusing to start`)
  }
}

/** A feature class the caller had to load because the config enables it (see loadFeature). */
export function requireLoaded<T>(feature: string, loaded: T | undefined): T {
  if (loaded === undefined) throw new PipelockError('FEATURE_LOAD_FAILED', `${feature} is enabled but its code was not loaded; refusing to start`)
  return loaded
}
