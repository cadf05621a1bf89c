export * from './errors.js';
export type * from './playbook/model.js';
export type * from './modules/types.js';
export type * from './connection/types.js';
