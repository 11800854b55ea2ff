-- The schema and rows of a SQLite database made by taskchat at commit 7278ce5
-- (the last release before migrations: tables from create_all, no version table).
-- Written by tests/migrations/make_release_dumps.py; do not edit by hand.
BEGIN TRANSACTION;
CREATE TABLE chat_attachment (
	id VARCHAR NOT NULL, 
	user_id VARCHAR(200) NOT NULL, 
	thread_id VARCHAR, 
	created_at DATETIME NOT NULL, 
	data TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(thread_id) REFERENCES chat_thread (id) ON DELETE CASCADE
);
INSERT INTO "chat_attachment" VALUES('atc_ann','ann','thr_ann','2026-11-27 15:10:36.564704','{"id":"atc_ann","name":"list.txt","mime_type":"text/plain","upload_descriptor":null,"thread_id":"thr_ann","metadata":null,"type":"file"}');
CREATE TABLE chat_thread (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id VARCHAR NOT NULL, 
	user_id VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	data TEXT NOT NULL, 
	UNIQUE (id)
);
INSERT INTO "chat_thread" VALUES(1,'thr_ann','ann','2025-03-10 09:30:00.000000','{"title":"Groceries","id":"thr_ann","created_at":"2025-03-10T09:30:00","status":{"type":"active"},"allowed_image_domains":null,"metadata":{}}');
INSERT INTO "chat_thread" VALUES(2,'thr_bob','bob','2025-03-10 09:30:00.000000','{"title":null,"id":"thr_bob","created_at":"2025-03-10T09:30:00","status":{"type":"active"},"allowed_image_domains":null,"metadata":{}}');
CREATE TABLE chat_thread_item (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id VARCHAR NOT NULL, 
	user_id VARCHAR(200) NOT NULL, 
	thread_id VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	data TEXT NOT NULL, 
	CONSTRAINT uq_chat_thread_item_thread_id_id UNIQUE (thread_id, id), 
	FOREIGN KEY(thread_id) REFERENCES chat_thread (id) ON DELETE CASCADE
);
INSERT INTO "chat_thread_item" VALUES(1,'msg_ann_1','ann','thr_ann','2025-03-10 09:30:00.000000','{"id":"msg_ann_1","thread_id":"thr_ann","created_at":"2025-03-10T09:30:00","type":"user_message","content":[{"type":"input_text","text":"add buy milk"}],"attachments":[],"quoted_text":null,"inference_options":{"tool_choice":null,"model":null}}');
INSERT INTO "chat_thread_item" VALUES(2,'msg_ann_2','ann','thr_ann','2025-03-10 09:30:02.000000','{"id":"msg_ann_2","thread_id":"thr_ann","created_at":"2025-03-10T09:30:02","type":"assistant_message","content":[{"annotations":[],"text":"Added task 1: Buy milk.","type":"output_text"}]}');
INSERT INTO "chat_thread_item" VALUES(3,'msg_bob_1','bob','thr_bob','2025-03-10 09:30:00.000000','{"id":"msg_bob_1","thread_id":"thr_bob","created_at":"2025-03-10T09:30:00","type":"user_message","content":[{"type":"input_text","text":"add buy milk"}],"attachments":[],"quoted_text":null,"inference_options":{"tool_choice":null,"model":null}}');
INSERT INTO "chat_thread_item" VALUES(4,'msg_bob_2','bob','thr_bob','2025-03-10 09:30:02.000000','{"id":"msg_bob_2","thread_id":"thr_bob","created_at":"2025-03-10T09:30:02","type":"assistant_message","content":[{"annotations":[],"text":"Added task 1: Buy milk.","type":"output_text"}]}');
CREATE TABLE task (
	id INTEGER NOT NULL, 
	user_id VARCHAR(200) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	description VARCHAR(2000), 
	completed BOOLEAN NOT NULL, 
	completed_at DATETIME, 
	priority SMALLINT NOT NULL, 
	tags VARCHAR(661) NOT NULL, 
	due_at DATETIME, 
	due_is_date BOOLEAN NOT NULL, 
	recurrence VARCHAR(10) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "task" VALUES(1,'ann','Buy milk',NULL,0,NULL,2,',errands,','2025-03-11 00:00:00.000000',1,'none','2025-03-10 09:00:00.000000','2025-03-10 09:00:00.000000');
INSERT INTO "task" VALUES(2,'ann','Call mom','About Sunday lunch',1,'2025-03-10 10:00:00.000000',1,'',NULL,0,'none','2025-03-10 09:01:00.000000','2025-03-10 10:00:00.000000');
INSERT INTO "task" VALUES(3,'ann','Pay rent',NULL,0,NULL,1,'','2025-04-01 09:00:00.000000',0,'monthly','2025-03-10 09:02:00.000000','2025-03-10 09:02:00.000000');
INSERT INTO "task" VALUES(4,'bob','Bob''s task',NULL,0,NULL,1,'',NULL,0,'none','2025-03-10 09:03:00.000000','2025-03-10 09:03:00.000000');
INSERT INTO "task" VALUES(5,'ann','Water plants',NULL,0,NULL,0,'',NULL,0,'none','2025-03-10 09:04:00.000000','2025-03-10 09:04:00.000000');
CREATE INDEX ix_chat_thread_user_seq ON chat_thread (user_id, seq);
CREATE INDEX ix_task_user_due ON task (user_id, due_at, id);
CREATE INDEX ix_task_user_title ON task (user_id, lower(title), id);
CREATE INDEX ix_task_user_created ON task (user_id, created_at, id);
CREATE INDEX ix_task_user_priority ON task (user_id, priority, id);
CREATE INDEX ix_chat_thread_item_user_thread_seq ON chat_thread_item (user_id, thread_id, seq);
CREATE INDEX ix_chat_attachment_user_thread ON chat_attachment (user_id, thread_id);
CREATE INDEX ix_chat_attachment_thread_id ON chat_attachment (thread_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('chat_thread',2);
INSERT INTO "sqlite_sequence" VALUES('chat_thread_item',4);
COMMIT;
