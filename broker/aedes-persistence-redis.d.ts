// aedes-persistence-redis 11 ships no types. Only what broker/cluster.ts uses.
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis';
  export default class AsyncRedisPersistence {
    constructor(options?: { conn?: Redis; maxSessionDelivery?: number });
    setup(broker: unknown): Promise<void>;
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
    destroy(): Promise<void>;
  }
}
