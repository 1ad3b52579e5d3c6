export { onCallModule, type OnCall } from './module.ts';
export { onCallCommands } from './cli.ts';
export { NotificationService, type NotifyRequest, type EnqueueOutcome } from './notify/service.ts';
export { NOTIFY_EVENTS, type NotifyEvent } from './notify/schemas.ts';
export { verifyWebhookSignature, signWebhook } from './notify/messages.ts';
export { onCallAt, layerShiftAt, type ScheduleLayer, type OnCallShift } from './rotation.ts';
export { type OnCallTables } from './schema.ts';
