namespace ServerlessTune.Core;

/// <summary>
/// Bad input from a user (file, flag, config key, checkpoint). The message is shown as one line, so it
/// must name the input and the reason: "data/faq.csv:12: answer column is empty".
/// The CLI maps it to exit code 1; the pipeline fails the run without retrying. It keeps the root namespace
/// because every layer throws or catches it.
/// </summary>
public class UserInputException(string message, Exception? inner = null) : Exception(message, inner);
