export { defineJob, type JobDefinition, type JobHooks, JobQueue, type JobQueueOptions } from './job-queue.ts';
