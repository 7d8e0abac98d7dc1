/** A problem with the job, its input or its service, said to the user as it is (exit 2). */
export class JobError extends Error {}
