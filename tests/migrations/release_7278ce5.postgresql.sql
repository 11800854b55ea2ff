-- The schema and rows of a PostgreSQL database made by taskchat at commit 7278ce5
-- (the last release before migrations: tables from create_all, no version table).
-- Written by tests/migrations/make_release_dumps.py; do not edit by hand.
CREATE TABLE chat_attachment (
    id character varying NOT NULL,
    user_id character varying(200) NOT NULL,
    thread_id character varying,
    created_at timestamp with time zone NOT NULL,
    data text NOT NULL
);
CREATE TABLE chat_thread (
    seq bigint NOT NULL,
    id character varying NOT NULL,
    user_id character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    data text NOT NULL
);
CREATE TABLE chat_thread_item (
    seq bigint NOT NULL,
    id character varying NOT NULL,
    user_id character varying(200) NOT NULL,
    thread_id character varying NOT NULL,
    created_at timestamp with time zone NOT NULL,
    data text NOT NULL
);
CREATE SEQUENCE chat_thread_item_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE chat_thread_item_seq_seq OWNED BY chat_thread_item.seq;
CREATE SEQUENCE chat_thread_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE chat_thread_seq_seq OWNED BY chat_thread.seq;
CREATE TABLE task (
    id integer NOT NULL,
    user_id character varying(200) NOT NULL,
    title character varying(200) NOT NULL,
    description character varying(2000),
    completed boolean NOT NULL,
    completed_at timestamp with time zone,
    priority smallint NOT NULL,
    tags character varying(661) NOT NULL,
    due_at timestamp with time zone,
    due_is_date boolean NOT NULL,
    recurrence character varying(10) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE task_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE task_id_seq OWNED BY task.id;
ALTER TABLE ONLY chat_thread ALTER COLUMN seq SET DEFAULT nextval('chat_thread_seq_seq'::regclass);
ALTER TABLE ONLY chat_thread_item ALTER COLUMN seq SET DEFAULT nextval('chat_thread_item_seq_seq'::regclass);
ALTER TABLE ONLY task ALTER COLUMN id SET DEFAULT nextval('task_id_seq'::regclass);
INSERT INTO chat_attachment VALUES ('atc_ann', 'ann', 'thr_ann', '2026-11-27 15:10:36.946144+00', '{"id":"atc_ann","name":"list.txt","mime_type":"text/plain","upload_descriptor":null,"thread_id":"thr_ann","metadata":null,"type":"file"}');
INSERT INTO chat_thread VALUES (1, 'thr_ann', 'ann', '2025-03-10 09:30:00+00', '{"title":"Groceries","id":"thr_ann","created_at":"2025-03-10T09:30:00","status":{"type":"active"},"allowed_image_domains":null,"metadata":{}}');
INSERT INTO chat_thread VALUES (2, 'thr_bob', 'bob', '2025-03-10 09:30:00+00', '{"title":null,"id":"thr_bob","created_at":"2025-03-10T09:30:00","status":{"type":"active"},"allowed_image_domains":null,"metadata":{}}');
INSERT INTO chat_thread_item VALUES (1, 'msg_ann_1', 'ann', 'thr_ann', '2025-03-10 09:30:00+00', '{"id":"msg_ann_1","thread_id":"thr_ann","created_at":"2025-03-10T09:30:00","type":"user_message","content":[{"type":"input_text","text":"add buy milk"}],"attachments":[],"quoted_text":null,"inference_options":{"tool_choice":null,"model":null}}');
INSERT INTO chat_thread_item VALUES (2, 'msg_ann_2', 'ann', 'thr_ann', '2025-03-10 09:30:02+00', '{"id":"msg_ann_2","thread_id":"thr_ann","created_at":"2025-03-10T09:30:02","type":"assistant_message","content":[{"annotations":[],"text":"Added task 1: Buy milk.","type":"output_text"}]}');
INSERT INTO chat_thread_item VALUES (3, 'msg_bob_1', 'bob', 'thr_bob', '2025-03-10 09:30:00+00', '{"id":"msg_bob_1","thread_id":"thr_bob","created_at":"2025-03-10T09:30:00","type":"user_message","content":[{"type":"input_text","text":"add buy milk"}],"attachments":[],"quoted_text":null,"inference_options":{"tool_choice":null,"model":null}}');
INSERT INTO chat_thread_item VALUES (4, 'msg_bob_2', 'bob', 'thr_bob', '2025-03-10 09:30:02+00', '{"id":"msg_bob_2","thread_id":"thr_bob","created_at":"2025-03-10T09:30:02","type":"assistant_message","content":[{"annotations":[],"text":"Added task 1: Buy milk.","type":"output_text"}]}');
INSERT INTO task VALUES (1, 'ann', 'Buy milk', NULL, false, NULL, 2, ',errands,', '2025-03-11 00:00:00+00', true, 'none', '2025-03-10 09:00:00+00', '2025-03-10 09:00:00+00');
INSERT INTO task VALUES (3, 'ann', 'Pay rent', NULL, false, NULL, 1, '', '2025-04-01 09:00:00+00', false, 'monthly', '2025-03-10 09:02:00+00', '2025-03-10 09:02:00+00');
INSERT INTO task VALUES (4, 'bob', 'Bob''s task', NULL, false, NULL, 1, '', NULL, false, 'none', '2025-03-10 09:03:00+00', '2025-03-10 09:03:00+00');
INSERT INTO task VALUES (5, 'ann', 'Water plants', NULL, false, NULL, 0, '', NULL, false, 'none', '2025-03-10 09:04:00+00', '2025-03-10 09:04:00+00');
INSERT INTO task VALUES (2, 'ann', 'Call mom', 'About Sunday lunch', true, '2025-03-10 10:00:00+00', 1, '', NULL, false, 'none', '2025-03-10 09:01:00+00', '2025-03-10 10:00:00+00');
SELECT pg_catalog.setval('chat_thread_item_seq_seq', 4, true);
SELECT pg_catalog.setval('chat_thread_seq_seq', 2, true);
SELECT pg_catalog.setval('task_id_seq', 6, true);
ALTER TABLE ONLY chat_attachment
    ADD CONSTRAINT chat_attachment_pkey PRIMARY KEY (id);
ALTER TABLE ONLY chat_thread
    ADD CONSTRAINT chat_thread_id_key UNIQUE (id);
ALTER TABLE ONLY chat_thread_item
    ADD CONSTRAINT chat_thread_item_pkey PRIMARY KEY (seq);
ALTER TABLE ONLY chat_thread
    ADD CONSTRAINT chat_thread_pkey PRIMARY KEY (seq);
ALTER TABLE ONLY task
    ADD CONSTRAINT task_pkey PRIMARY KEY (id);
ALTER TABLE ONLY chat_thread_item
    ADD CONSTRAINT uq_chat_thread_item_thread_id_id UNIQUE (thread_id, id);
CREATE INDEX ix_chat_attachment_thread_id ON chat_attachment USING btree (thread_id);
CREATE INDEX ix_chat_attachment_user_thread ON chat_attachment USING btree (user_id, thread_id);
CREATE INDEX ix_chat_thread_item_user_thread_seq ON chat_thread_item USING btree (user_id, thread_id, seq);
CREATE INDEX ix_chat_thread_user_seq ON chat_thread USING btree (user_id, seq);
CREATE INDEX ix_task_user_created ON task USING btree (user_id, created_at, id);
CREATE INDEX ix_task_user_due ON task USING btree (user_id, due_at, id);
CREATE INDEX ix_task_user_priority ON task USING btree (user_id, priority, id);
CREATE INDEX ix_task_user_title ON task USING btree (user_id, lower((title)::text), id);
ALTER TABLE ONLY chat_attachment
    ADD CONSTRAINT chat_attachment_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES chat_thread(id) ON DELETE CASCADE;
ALTER TABLE ONLY chat_thread_item
    ADD CONSTRAINT chat_thread_item_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES chat_thread(id) ON DELETE CASCADE;
