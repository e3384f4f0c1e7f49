namespace ServerlessTune.Core.Feedback;

/// <summary>
/// pipeline.json's `feedback` section: whether and how served conversations and their ratings become training data,
/// and how long the logs are kept.
/// </summary>
/// <param name="Include">Read the conversation and feedback logs as one more data source.</param>
/// <param name="Since">The first UTC day read (null: every kept day).</param>
/// <param name="MinRating">Rated answers at or above it are trained on (ratings are +1 or -1; a rated-down answer is never trained on).</param>
/// <param name="RetentionDays">Day folders of both logs older than this are deleted when a run prepares its data.</param>
/// <param name="RetrainAfter">A new run starts (`stune retrain`, the timer function) once this many conversations were rated since the
/// last run read the logs; null: never by itself.</param>
public sealed record FeedbackOptions(bool Include = true, DateOnly? Since = null, int MinRating = 1, int RetentionDays = 90, int? RetrainAfter = null);
