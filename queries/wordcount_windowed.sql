-- Kafka Streams' WordCount, in SQL: split each line into words (one row per word with
-- EXPLODE), then count each word per one-minute tumbling window. WORD_COUNTS is a windowed
-- table: its changelog topic gets an update per word occurrence, and its current state is
-- materialised for pull queries and ad hoc SQL.
--
-- Try it (the sample lines below are inserted by the script itself):
--   streamsql run queries/wordcount_windowed.sql --until-idle
--   streamsql query "SELECT word, WINDOWSTART, occurrences FROM word_counts ORDER BY occurrences DESC LIMIT 5"

CREATE STREAM lines (line VARCHAR)
    WITH (KAFKA_TOPIC = 'lines', VALUE_FORMAT = 'JSON', PARTITIONS = 1);

-- Lower-case, drop punctuation, one row per word.
CREATE STREAM words WITH (KAFKA_TOPIC = 'words') AS
    SELECT EXPLODE(SPLIT(LCASE(REGEXP_REPLACE(line, '[^a-zA-Z ]', '')), ' ')) AS word
    FROM lines
    EMIT CHANGES;

CREATE TABLE word_counts WITH (KAFKA_TOPIC = 'word_counts') AS
    SELECT word, COUNT(*) AS occurrences
    FROM words
    WINDOW TUMBLING (SIZE 1 MINUTE)
    WHERE word <> ''
    GROUP BY word
    EMIT CHANGES;

INSERT INTO lines (line) VALUES ('All streams flow into the log.');
INSERT INTO lines (line) VALUES ('The log is the source of truth; streams are the log in motion.');
INSERT INTO lines (line) VALUES ('Tables are streams at rest, and streams are tables in motion.');
INSERT INTO lines (line) VALUES ('Hello Kafka, hello streams!');
