// The v1 event's wire contract lives in the emitter package (@actorlog/sdk),
// which emitters install without the server; the server reads it from there
// through this module so that services keep importing the contract from schemas/.
export * from '@actorlog/sdk/schema';
