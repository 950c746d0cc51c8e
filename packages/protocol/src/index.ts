export * from './common.ts';
export * from './errors.ts';
export * from './structured-content.ts';
export * from './events.ts';
export * from './rest.ts';
export * from './realtime.ts';
export * from './endpoints.ts';
