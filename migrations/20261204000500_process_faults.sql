-- The health page counts the failures the Node server survived (an unhandled rejection, logged
-- once each). They are rare among millions of log lines a day: this index finds them without
-- reading the rest. The message is PROCESS_FAULT_MESSAGE in shared/telemetry/faults.ts.
create index if not exists logs_process_faults_idx on telemetry.logs (time desc)
  where level = 'error' and message = 'unhandled rejection; the server kept serving';
