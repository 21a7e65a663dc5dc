CREATE TABLE "security_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"user_id" uuid,
	"actor_id" uuid,
	"ip" text,
	"user_agent" text,
	"login_id" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	"coalesce_key" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "security_events_coalesce_key_key" ON "security_events" USING btree ("coalesce_key");--> statement-breakpoint
CREATE INDEX "security_events_user_id_occurred_at_id_idx" ON "security_events" USING btree ("user_id","occurred_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "security_events_occurred_at_id_idx" ON "security_events" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "security_events_type_occurred_at_idx" ON "security_events" USING btree ("type","occurred_at");