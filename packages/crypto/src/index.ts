export * from './merkle/index.js';
export * from './note/index.js';
export * from './mls/index.js';
export * from './attachments/index.js';
