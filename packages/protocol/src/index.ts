export * from './errors.js';
export * from './common.js';
export * from './account.js';
export * from './org.js';
export * from './auth.js';
export * from './health.js';
export * from './audit.js';
export * from './messaging.js';
