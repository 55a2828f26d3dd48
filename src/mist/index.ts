export { createMist, type Mist, type MistOptions } from './create.js'
export { openStore, type OpenStoreOptions, type OpenedStore } from './open-store.js'
export { startServing, type ServeOptions, type Serving } from './serve.js'
