import { Module } from '@nestjs/common';
import { SecurityEventRetention } from './security-event-retention.js';
import { SecurityEventStore } from './security-event.store.js';
import { SecurityEvents } from './security-events.js';

/** The security-event record: its table's store, the writer, and the retention job. */
@Module({
  providers: [SecurityEventStore, SecurityEvents, SecurityEventRetention],
  exports: [SecurityEventStore, SecurityEvents],
})
export class EventsModule {}
