// C2SP signed notes and checkpoints: node:crypto only.
export { generateNoteKey, isKeyName, keyHash, NoteKeyError, parseSignerKey, parseVerifierKey, verifierKeyOf, type NoteSigner, type NoteVerifier } from './keys.js';
export { cosignNote, NoteError, openNote, signNote, type NoteSignature, type OpenedNote } from './note.js';
export { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
export { cosignatureSigner, cosignatureTime, cosignedMessage, parseCosignatureVerifierKey, type CosignatureSigner } from './cosignature.js';
